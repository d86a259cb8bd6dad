"""Web forms (Flask-WTF: every form carries a CSRF token). Labels and messages are translatable."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import validate
from marshmallow.exceptions import ValidationError as MarshmallowError
from wtforms import (BooleanField, DateField, DecimalField, EmailField, FieldList, Form, FormField, HiddenField,
                     PasswordField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import (URL, DataRequired, EqualTo, InputRequired, Length, NumberRange, Optional,
                                StopValidation, ValidationError)

from inspection.models import CONCLUSIONS, STAGES

REQUIRED = _l("This field is required.")


class NumberField(DecimalField):
    """A decimal that is a number: "Infinity", "NaN" and "sNaN" parse as Decimals, and the last
    two break every comparison a range check makes (a 500 instead of a message)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Not a valid decimal value."))


def options(pairs) -> list[SelectChoice]:
    """A select's fixed options from (value, label) pairs (WTForms 3.4 drops tuple choices)."""
    return [SelectChoice(value, label) for value, label in pairs]


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=256)])


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(REQUIRED), Length(min=8, max=256)])
    confirm = PasswordField(_l("Confirm the new password"),
                            validators=[DataRequired(REQUIRED), EqualTo("new_password", _l("The two entries differ."))])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token (sign-out, language, one-button actions)."""


def stage_choices():
    labels = {"production": _l("Production"), "distribution": _l("Distribution"), "catering": _l("Catering"),
              "online": _l("Online")}
    return [("", _l("(not given)"))] + [(s, labels[s]) for s in STAGES]


def verdict_choices():
    labels = {"pass": _l("Pass"), "fail": _l("Fail")}
    return [(c, labels[c]) for c in CONCLUSIONS]


class ItemForm(Form):
    """One test item; a row left blank is ignored."""
    item = StringField(_l("Test item"), validators=[Length(max=200)])
    value = StringField(_l("Result"), validators=[Optional(), Length(max=100)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=32)])
    limit = StringField(_l("Limit"), validators=[Optional(), Length(max=100)])
    standard = StringField(_l("Standard"), validators=[Optional(), Length(max=200)])
    verdict = SelectField(_l("Verdict"), choices=verdict_choices, validate_choice=False)

    def validate_item(self, field):
        # A row with a result but no name would be dropped unseen (the API refuses it too).
        details = (self.value, self.unit, self.limit, self.standard)
        if not (field.data or "").strip() and any((f.data or "").strip() for f in details):
            raise ValidationError(_l("a test item needs its name"))

    def validate_verdict(self, field):
        if (self.item.data or "").strip() and field.data not in CONCLUSIONS:
            raise ValidationError(_l("Choose pass or fail."))


class BatchForm(FlaskForm):
    sample_no = StringField(_l("Sample number"), validators=[DataRequired(REQUIRED), Length(max=64)])
    sampled_on = DateField(_l("Sampling date"), validators=[InputRequired(REQUIRED)])
    reported_on = DateField(_l("Report date"), validators=[Optional()])
    category = SelectField(_l("Product category"), validators=[DataRequired(REQUIRED)])
    region = SelectField(_l("Region sampled"), validators=[DataRequired(REQUIRED)])
    enterprise_credit_code = StringField(_l("Producer's unified social credit code"),
                                         validators=[Optional(), Length(max=18)])
    enterprise_name = StringField(_l("Producer's name"), validators=[Optional(), Length(max=200)])
    product = StringField(_l("Product"), validators=[Optional(), Length(max=200)])
    brand = StringField(_l("Brand"), validators=[Optional(), Length(max=100)])
    specification = StringField(_l("Specification"), validators=[Optional(), Length(max=100)])
    lot = StringField(_l("Lot"), validators=[Optional(), Length(max=100)])
    production_date = DateField(_l("Production date"), validators=[Optional()])
    stage = SelectField(_l("Stage"), choices=stage_choices)
    sampling_agency = StringField(_l("Sampling agency"), validators=[Optional(), Length(max=200)])
    laboratory = StringField(_l("Laboratory"), validators=[Optional(), Length(max=200)])
    report_no = StringField(_l("Report number"), validators=[Optional(), Length(max=100)])
    conclusion = SelectField(_l("Conclusion"), choices=verdict_choices)
    fail_reason = TextAreaField(_l("Reason for failing"), validators=[Optional(), Length(max=500)])
    items = FieldList(FormField(ItemForm), min_entries=3, max_entries=500)  # the API's limit

    TEXT = ("enterprise_credit_code", "enterprise_name", "product", "brand", "specification", "lot",
            "sampling_agency", "laboratory", "report_no", "fail_reason")

    def to_data(self) -> dict:
        """The form as the input `create_batch` takes (blank text is None, blank item rows dropped)."""
        data = {name: (getattr(self, name).data or "").strip() or None for name in self.TEXT}
        data.update(sample_no=self.sample_no.data.strip(), sampled_on=self.sampled_on.data,
                    reported_on=self.reported_on.data, production_date=self.production_date.data,
                    category=self.category.data, region=self.region.data, stage=self.stage.data or None,
                    conclusion=self.conclusion.data)
        data["items"] = [{k: (v.strip() or None) if isinstance(v, str) and k != "verdict" else v
                          for k, v in row.data.items()}
                         for row in self.items if (row.item.data or "").strip()]
        return data


class AmendForm(BatchForm):
    version = HiddenField()
    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(REQUIRED), Length(max=500)])


class VoidForm(FlaskForm):
    version = HiddenField()
    reason = TextAreaField(_l("Reason for voiding"), validators=[DataRequired(REQUIRED), Length(max=500)])


class UploadForm(FlaskForm):
    file = FileField(_l("CSV or XLSX file"), validators=[FileRequired(REQUIRED)])
    atomic = BooleanField(_l("All or nothing: store no row if any row is rejected"))


class AlertActionForm(FlaskForm):
    # the API's limit (warning.schemas NoteSchema, DismissSchema)
    note = TextAreaField(_l("Note (required to dismiss)"), validators=[Optional(), Length(max=1000)])


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(REQUIRED), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    password = PasswordField(_l("Initial password"), validators=[DataRequired(REQUIRED), Length(min=8, max=256)])
    roles = SelectMultipleField(_l("Roles"), validators=[DataRequired(REQUIRED)])
    region = SelectField(_l("Region"), validators=[DataRequired(REQUIRED)])


class UserEditForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=64)])
    roles = SelectMultipleField(_l("Roles"), validators=[DataRequired(REQUIRED)])
    region = SelectField(_l("Region"), validators=[DataRequired(REQUIRED)])
    active = BooleanField(_l("Active"))


class FloorForm(FlaskForm):
    category = SelectField(_l("Product category"), validators=[DataRequired(REQUIRED)])
    floor = NumberField(_l("Floor (%)"), places=1,
                        validators=[InputRequired(REQUIRED), NumberRange(0.1, 100, _l("Between 0.1 and 100."))])
    effective_from = DateField(_l("In force from"), validators=[InputRequired(REQUIRED)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=255)])  # the API's limit


def level_choices():
    labels = {"blue": _l("Blue"), "yellow": _l("Yellow"), "orange": _l("Orange"), "red": _l("Red")}
    return list(labels.items())


class HolidayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(REQUIRED)])
    working = SelectField(_l("The day is"), choices=options([("0", _l("A day off")), ("1", _l("A working day"))]))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=100)])


class AlertFilterForm(FlaskForm):
    """What a subscription or a webhook takes in: a region subtree, a category subtree, a lowest level."""
    region = SelectField(_l("Region"), validators=[DataRequired(REQUIRED)])
    category = SelectField(_l("Product category"), validators=[DataRequired(REQUIRED)])
    min_level = SelectField(_l("Lowest level"), choices=level_choices)

    def filters(self) -> dict:
        return {"region_code": self.region.data, "category_code": self.category.data, "min_level": self.min_level.data}


def email_address(form, field):
    """The API's check (marshmallow's), so the page stores no address the API would refuse."""
    try:
        validate.Email()(field.data or "")
    except MarshmallowError:
        raise ValidationError(_l("Not an email address.")) from None


class SubscriptionForm(AlertFilterForm):
    # type=email for the phone keyboard; the server still applies the API's check (email_address).
    email = EmailField(_l("Email address"), validators=[DataRequired(REQUIRED), Length(max=254), email_address])
    active = BooleanField(_l("Active"), default=True)


def http_address(form, field):
    # Checked before the address itself, and alone: "ftp://x" would otherwise get both messages
    # joined ("Not a web address.; Only http and https addresses.").
    if not (field.data or "").lower().startswith(("http://", "https://")):
        raise StopValidation(_l("Only http and https addresses."))


class WebhookForm(AlertFilterForm):
    url = StringField(_l("Address (URL)"), validators=[
        DataRequired(REQUIRED), Length(max=2000), http_address,
        URL(require_tld=False, message=_l("Not a web address."))])

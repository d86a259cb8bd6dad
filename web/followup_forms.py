"""Forms of the agency (follow-up) pages; the services check the rules, these only parse input."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from web.forms import REQUIRED, NumberField, options

SEVERITY_LABELS = {"minor": _l("Minor"), "general": _l("General"), "serious": _l("Serious")}
PRODUCT_TYPE_LABELS = {"": _l("(from the category)"), "food": _l("Food"), "drug": _l("Drug"),
                       "farm": _l("Farm produce"), "industrial": _l("Industrial product")}
OBJECTION_SUBJECTS = {"sampling": _l("The sampling"), "method": _l("The test method")}
QUANTITY = NumberRange(min=0, max=1e12, message=_l("From 0 to 1,000,000,000,000."))  # the API's bound
# How people name the levels (一级召回); the API and the database keep I, II, III.
RECALL_LEVELS = {"I": _l("Class I"), "II": _l("Class II"), "III": _l("Class III")}


def recall_level_choices():
    return options([("", _l("(choose)")), *RECALL_LEVELS.items()])


class QuantityField(NumberField):
    """A quantity as a person writes it: a stored 2400.0 shows as 2400, not 2400.00."""

    def _value(self):
        if self.raw_data or self.data is None:
            return super()._value()
        return format(Decimal(str(self.data)).normalize(), "f")


class DisposalForm(FlaskForm):
    severity = SelectField(_l("Severity"), choices=options(SEVERITY_LABELS.items()))
    notified_on = DateField(_l("Producer told on"), validators=[Optional()])
    unit_notified_on = DateField(_l("Sampled unit told on"), validators=[Optional()])
    measures = TextAreaField(_l("Measures taken"), validators=[Optional(), Length(max=4000)])
    cause = TextAreaField(_l("Cause found"), validators=[Optional(), Length(max=4000)])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=4000)])
    closed_on = DateField(_l("Closed on (blank: today)"), validators=[Optional()])

    def to_data(self) -> dict:
        return {f: getattr(self, f).data for f in ("severity", "notified_on", "unit_notified_on", "measures",
                                                     "cause", "outcome", "closed_on")}


class RetestForm(FlaskForm):
    applied_on = DateField(_l("Applied on"), validators=[InputRequired(REQUIRED)])
    applicant = StringField(_l("Applicant"), validators=[Optional(), Length(max=200)])
    laboratory = StringField(_l("Retest laboratory"), validators=[DataRequired(REQUIRED), Length(max=200)])


class ObjectionForm(FlaskForm):
    subject = SelectField(_l("Objection about"), choices=options(OBJECTION_SUBJECTS.items()))
    grounds = TextAreaField(_l("Grounds"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    raised_on = DateField(_l("Raised on (blank: today)"), validators=[Optional()])


RETEST_CONCLUSIONS = {"pass": _l("Pass (the batch's conclusion becomes pass)"),
                      "fail": _l("Fail (the failure is confirmed)")}
OBJECTION_DECISIONS = {"rejected": _l("Rejected (the result stands)"), "upheld": _l("Upheld (the objection stands)")}


class RetestConclusionForm(FlaskForm):
    conclusion = SelectField(_l("Retest conclusion"), choices=options(RETEST_CONCLUSIONS.items()))
    report_no = StringField(_l("Retest report number"), validators=[Optional(), Length(max=100)])
    concluded_on = DateField(_l("Concluded on (blank: today)"), validators=[Optional()])


class ObjectionDecisionForm(FlaskForm):
    """One per open objection on a page (each with its own prefix, so ids stay unique)."""
    status = SelectField(_l("Decision"), choices=options(OBJECTION_DECISIONS.items()))
    decision = TextAreaField(_l("Grounds of the decision"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    decided_on = DateField(_l("Decided on (blank: today)"), validators=[Optional()])


class RecallForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    # No preselected level: a blank form must not open a level I recall (the most urgent one).
    level = SelectField(_l("Recall level"), choices=recall_level_choices,
                        validators=[DataRequired(_l("Choose the recall level: Class I, II or III."))])
    product_type = SelectField(_l("Product type"), choices=options(PRODUCT_TYPE_LABELS.items()))
    quantity_concerned = QuantityField(_l("Quantity concerned"), validators=[Optional(), QUANTITY])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class AlertCaseForm(FlaskForm):
    """A follow-up case opened from an alert: most are traceability (find where the risk comes
    from); a recall needs its level, which the service asks for next to the field."""
    kind = SelectField(_l("Kind"), choices=options([("traceability", _l("Traceability")), ("recall", _l("Recall"))]))
    title = StringField(_l("Title"), validators=[DataRequired(REQUIRED), Length(max=200)])
    level = SelectField(_l("Recall level"), choices=recall_level_choices, default="")
    product_type = SelectField(_l("Product type"), choices=options(PRODUCT_TYPE_LABELS.items()))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class CaseDetailsForm(FlaskForm):
    quantity_concerned = QuantityField(_l("Quantity concerned"), validators=[Optional(), QUANTITY])
    quantity_recovered = QuantityField(_l("Quantity recovered"), validators=[Optional(), QUANTITY])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=16)])
    distribution = StringField(_l("Regions reached (names or codes, separated by spaces or commas)"),
                               validators=[Optional(), Length(max=2000)])
    recovered_disposal = TextAreaField(_l("Disposal of the recovered goods"), validators=[Optional(), Length(max=4000)])


class ActionForm(FlaskForm):
    what = TextAreaField(_l("What was done"), validators=[DataRequired(REQUIRED), Length(max=4000)])
    started = SelectField(_l("This action starts the recall"), choices=options([("", _l("No")), ("1", _l("Yes"))]))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason for cancelling"), validators=[Optional(), Length(max=2000)])  # the API's


class CloseCaseForm(FlaskForm):
    quantity_recovered = QuantityField(_l("Quantity recovered"), validators=[Optional(), QUANTITY])
    recovered_disposal = TextAreaField(_l("Disposal of the recovered goods"), validators=[Optional(), Length(max=4000)])
    outcome = TextAreaField(_l("Outcome"), validators=[Optional(), Length(max=4000)])


class ReasonForm(FlaskForm):
    """Blacklisting or taking off the blacklist: the service refuses a blank reason next to the field."""
    credit_code = StringField(_l("Unified social credit code"), validators=[Optional(), Length(max=18)])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])

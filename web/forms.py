"""Web forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    username = StringField("用户名 Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("密码 Password", validators=[DataRequired(), Length(max=256)])


class PasswordForm(FlaskForm):
    current_password = PasswordField("当前密码 Current password", validators=[DataRequired()])
    new_password = PasswordField("新密码 New password", validators=[DataRequired(), Length(min=8, max=256)])
    confirm = PasswordField("确认新密码 Confirm", validators=[DataRequired(), EqualTo("new_password", "两次输入不一致 / does not match")])


class EmptyForm(FlaskForm):
    """A form with only its CSRF token (sign-out button)."""

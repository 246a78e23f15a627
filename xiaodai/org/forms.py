from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from xiaodai.org.choices import BusinessLine, Role
from xiaodai.org.models import SubBranch, Team


class StaffCreateForm(forms.Form):
    username = forms.RegexField(
        regex=r"^[a-z0-9_.-]{3,30}$",
        label=_("Username"),
        error_messages={"invalid": _("3–30 lower-case letters, digits, dot, dash or underscore.")},
    )
    name = forms.CharField(label=_("Name"), max_length=50)
    employee_no = forms.RegexField(
        regex=r"^[A-Za-z0-9]{3,20}$",
        label=_("Employee number"),
        error_messages={"invalid": _("3–20 letters or digits.")},
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    business_line = forms.ChoiceField(label=_("Business line"), choices=BusinessLine.choices)
    sub_branch = forms.ModelChoiceField(
        label=_("Sub-branch"), queryset=SubBranch.objects.none(), required=False
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput, min_length=12)

    def __init__(self, *args: Any, branch_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sub_branch"].queryset = SubBranch.objects.filter(branch_id=branch_id or 0)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.filter(branch_id=branch_id or 0)  # type: ignore[attr-defined]
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        # The similarity check (S-04) needs the new account's own attributes; username and name are
        # declared before password, so they are already cleaned here when valid.
        account = User(
            username=self.cleaned_data.get("username", ""), first_name=self.cleaned_data.get("name", "")
        )
        validate_password(password, account)
        return password

"""Script forms: the script's product, pool and scenario (fixed once created), and a version's texts with
one textarea per objection type (one rebuttal per line).

The forms check shape only; the services (xiaodai.outreach.scripts) validate, and the lint
(xiaodai.outreach.script_lint) judges what the texts say. Their errors come back onto the fields here."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xiaodai.outreach.choices import Objection
from xiaodai.outreach.script_lint import LintError, highlight
from xiaodai.outreach.scripts import MAX_TEXT, Scenario, ScriptError
from xiaodai.pools import rules as r

OBJECTION_PREFIX = "obj_"


def objection_field(code: str) -> str:
    return OBJECTION_PREFIX + code


def pool_choices(blank: Any) -> list[tuple[str, Any]]:
    return [("", blank), *((p.code, f"{p.name}（{p.chinese}）") for p in r.POOLS)]


def scenario_choices(blank: Any) -> list[tuple[str, Any]]:
    return [("", blank), *Scenario.choices]


def _style(form: forms.BaseForm) -> None:
    for name, field in form.fields.items():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)
        field.widget.attrs.setdefault("id", f"id_{name}")


def _mark_invalid(form: forms.BaseForm) -> None:
    for name in form.errors:
        if name in form.fields:
            widget = form.fields[name].widget
            widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class ScriptMetaForm(forms.Form):
    """What a script is for; chosen when it is created (a different product or pool is a different script)."""

    title = forms.CharField(label=_("Title"), max_length=100)
    product = forms.CharField(
        label=_("Product"),
        max_length=50,
        help_text=_("The product the script sells, as the bank names it (e.g. 消费贷, 薪享贷)."),
    )
    pool = forms.ChoiceField(label=_("Pool"), required=False, choices=lambda: pool_choices(_("Any pool")))
    scenario = forms.ChoiceField(
        label=_("Scenario"), required=False, choices=lambda: scenario_choices(_("Any scenario"))
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["product"].widget.attrs["list"] = "product-list"
        _style(self)

    def mark_invalid(self) -> None:
        _mark_invalid(self)


class VersionForm(forms.Form):
    """The texts of one version; `version_fields()` gives them as the services take them."""

    opening = forms.CharField(
        label=_("Opening line"), max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3})
    )
    selling_points = forms.CharField(
        label=_("Selling points"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Any rate you mention needs 年化利率 and its figure in the same text."),
    )
    scenario_text = forms.CharField(
        label=_("Usage scenario"),
        max_length=MAX_TEXT,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    closing = forms.CharField(
        label=_("Closing"), max_length=MAX_TEXT, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    apr = forms.DecimalField(
        label=_("APR (%)"),
        max_digits=7,
        decimal_places=4,
        min_value=0,
        help_text=_("The annual percentage rate (年化利率) the script quotes; above 0 and at most 24."),
    )

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        for code, label in Objection.choices:
            self.fields[objection_field(code)] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_TEXT * 2,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.fields["apr"].widget.attrs["inputmode"] = "decimal"
        _style(self)

    @staticmethod
    def initial_from(fields: dict[str, Any]) -> dict[str, Any]:
        """Form initial values from a version's fields (rebuttals one per line)."""
        initial = {k: v for k, v in fields.items() if k != "objections"}
        if isinstance(initial.get("apr"), Decimal):  # 3.4500 in the column, 3.45 on the page
            initial["apr"] = f"{initial['apr'].normalize():f}"
        for code, texts in (fields.get("objections") or {}).items():
            initial[objection_field(code)] = "\n".join(texts)
        return initial

    def objection_fields(self) -> list[forms.BoundField]:
        return [self[objection_field(code)] for code in Objection.values]

    def text_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("opening", "selling_points", "scenario_text", "closing")]

    def version_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        objections = {
            code: data.get(objection_field(code), "").splitlines()
            for code in Objection.values
            if data.get(objection_field(code), "").strip()
        }
        return {
            "opening": data["opening"],
            "selling_points": data["selling_points"],
            "scenario_text": data.get("scenario_text", ""),
            "closing": data.get("closing", ""),
            "apr": data["apr"],
            "objections": objections,
        }

    def add_service_error(self, exc: ScriptError) -> None:
        """A refused save or submit, onto its field (or the form as a whole)."""
        name = exc.field
        if name.startswith("objections."):
            name = objection_field(name.split(".", 1)[1])
        self.add_error(name if name in self.fields else None, exc.message)

    def mark_invalid(self) -> None:
        _mark_invalid(self)


def form_field_of(error: LintError) -> str:
    """The form field a lint finding belongs beside."""
    return objection_field(error.objection) if error.objection else error.field


def lint_by_field(errors: Iterable[LintError], fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """For each form field with findings: the distinct messages and the text with its phrases marked.

    {field: {"messages": [...], "pieces": [(text, flagged), ...] or, for rebuttals, "lines": [pieces, ...]}}
    """
    labels = {name: field.label for name, field in VersionForm.base_fields.items()}
    labels |= {objection_field(code): label for code, label in Objection.choices}
    out: dict[str, dict[str, Any]] = {}
    for e in errors:
        name = form_field_of(e)
        entry = out.setdefault(name, {"messages": [], "errors": [], "label": labels.get(name, "")})
        if e.message not in entry["messages"]:
            entry["messages"].append(e.message)
        entry["errors"].append(e)
    objections = fields.get("objections") or {}
    for name, entry in out.items():
        errs: list[LintError] = entry.pop("errors")
        if name.startswith(OBJECTION_PREFIX):
            code = name[len(OBJECTION_PREFIX) :]
            texts = objections.get(code, []) if isinstance(objections, dict) else []
            entry["lines"] = [
                highlight(text, [e for e in errs if e.index == i])
                for i, text in enumerate(texts)
                if any(e.index == i for e in errs)
            ]
        elif name in ("opening", "selling_points", "scenario_text", "closing"):
            entry["pieces"] = highlight(str(fields.get(name) or ""), errs)
    return out


def mark_lint(form: forms.BaseForm, findings: dict[str, dict[str, Any]]) -> None:
    """Red outline on the fields the lint flags (the messages are shown by the template)."""
    for name in findings:
        if name in form.fields:
            widget = form.fields[name].widget
            if "is-invalid" not in widget.attrs.get("class", ""):
                widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class ReviewForm(forms.Form):
    """The reviewer's note: optional on approval, required when sending a version back."""

    note = forms.CharField(label=_("Review note"), max_length=500, required=False)

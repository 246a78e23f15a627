"""Template filters of the workbench pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.forms import BoundField

from xiaodai.pools import rules as pool_rules

register = template.Library()


@register.filter
def add_class(field: BoundField, css: str) -> str:
    """Render a form field's widget with a CSS class (Tabler's form-control / form-select)."""
    return field.as_widget(attrs={"class": css + (" is-invalid" if field.errors else "")})


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def pool_name(code: str) -> str:
    pool = pool_rules.BY_CODE.get(code)
    return str(pool.name) if pool else code

"""One figure's target tree as table rows, built in Python rather than in the template: a branch's tree has
a few hundred rows of some twenty-five values each, and the template engine's lookups were two fifths of
the plan page's time at a million customers (benchmarks). Unit names are text people typed and are escaped,
as are the translated texts; everything else is a number or a code of ours."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from xiaodai.core.templatetags.xiaodai import amount

if TYPE_CHECKING:
    from xiaodai.plans.target_views import FigureTree, TreeRow


def tree_rows(tree: FigureTree, plan_pk: int) -> SafeString:
    """The <tr> rows of the tree (plans/partials/targets_tree.html puts them in its table)."""
    texts = {
        "rolled_title": _("No target of its own: the sum of the targets below"),
        "rolled": _("rolled up"),
        "gap_title": _("The targets below do not add up to this one"),
        "gap": _("parts differ by"),
        "done": _("Done"),
        "elapsed": _("Time elapsed"),
        "set": _("Set target"),
        "split": _("Split"),
    }
    t: dict[str, str] = {k: escape(v) for k, v in texts.items()}
    set_url = reverse("plans:target_set", args=[plan_pk])
    return mark_safe("".join(_row(row, tree, t, set_url) for row in tree.rows))  # noqa: S308 (see above)


def _row(row: TreeRow, tree: FigureTree, t: dict[str, str], set_url: str) -> str:
    money = tree.money
    attrs = f' data-target="{row.target.pk}"' if row.target else ""
    if row.rolled_up:
        attrs += ' data-rolled-up="1" class="text-secondary"'
    arrow = '<i class="ti ti-corner-down-right text-secondary me-1"></i>' if row.depth else ""
    badges = f'<span class="badge bg-secondary-lt ms-1">{escape(row.level_label)}</span>'
    if row.rolled_up:
        badges += (
            f'<span class="badge bg-azure-lt ms-1" data-testid="rolled-up" title="{t["rolled_title"]}">'
            f"{t['rolled']}</span>"
        )
    if row.split_gap is not None:
        badges += (
            f'<span class="badge bg-orange-lt ms-1" data-testid="split-gap" title="{t["gap_title"]}">'
            f"{t['gap']} {amount(row.split_gap, money)}</span>"
        )
    if row.done_pct is not None:
        done = (
            '<div class="d-flex align-items-center gap-2">'
            '<div class="progress progress-sm flex-fill position-relative" role="progressbar" '
            f'aria-label="{t["done"]}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="{row.bar}">'
            f'<div class="progress-bar{row.bar_class}" style="width: {row.bar}%"></div>'
            '<div class="position-absolute top-0 bottom-0 border-end border-2 border-dark" '
            f'style="left: {row.elapsed_pct}%" title="{t["elapsed"]} {row.elapsed_pct}%"></div>'
            f'</div><span class="small text-nowrap" data-testid="done">{row.done_pct}%</span></div>'
        )
    else:
        done = '<span class="small text-secondary">—</span>'
    actions = ""
    if row.can_set:
        actions += (
            f'<a class="btn btn-sm btn-ghost-primary" href="{set_url}?unit={row.node.key}&amp;figure='
            f'{tree.figure}" data-testid="set" title="{t["set"]}"><i class="ti ti-pencil"></i></a>'
        )
    if row.can_split and row.target is not None:
        split_url = reverse("plans:target_split", args=[row.target.pk])
        actions += (
            f'<a class="btn btn-sm btn-ghost-primary" href="{split_url}" data-testid="split">'
            f'<i class="ti ti-arrows-split me-1"></i>{t["split"]}</a>'
        )
    return (
        f'<tr data-unit="{row.node.key}"{attrs}>'
        f'<td style="padding-left: {row.indent}rem"><span>{arrow}{escape(row.node.name)}</span>{badges}</td>'
        f'<td class="text-end" data-testid="value">{amount(row.value, money)}</td>'
        f'<td class="text-end" data-testid="actual">{amount(row.actual, money)}</td>'
        f"<td>{done}</td>"
        f'<td><span class="badge {row.pace_class}" data-testid="pace" data-pace="{row.pace}">'
        f"{escape(row.pace_label)}</span></td>"
        f'<td class="text-end text-nowrap">{actions}</td></tr>'
    )

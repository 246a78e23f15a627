"""The methods a model is compared with on its card, and their words: what the pages need of training, kept
apart from learn.py so that a web process does not load LightGBM and scikit-learn to draw a model card."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

GAINS_STEP = 5  # the gains chart: capture at every 5 % of the list
METHODS = ("random", "rule", "logistic", "model")


def method_label(method: str) -> str:
    labels = {
        "random": _("random order"),
        "rule": _("business rule"),
        "logistic": _("logistic regression"),
        "model": _("this model"),
        "active": _("the active model"),
    }
    return labels.get(method, method)


def note_text(note: dict[str, Any]) -> str:
    metric = "AUC" if note["metric"] == "auc" else _("capture at %(p)s%%") % {"p": note["metric"]}
    return _("Does not beat %(base)s on %(metric)s (%(mine).3f vs %(theirs).3f).") % {
        "base": method_label(note["base"]),
        "metric": metric,
        "mine": note["mine"],
        "theirs": note["theirs"],
    }

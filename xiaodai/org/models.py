"""The bank's organisation: bank → branch (分行) → sub-branch (支行) → team; staff with role and line."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xiaodai.core.models import Lineage
from xiaodai.org.choices import BusinessLine, Role, TeamKind
from xiaodai.org.querysets import StaffQuerySet, TeamQuerySet


class Bank(models.Model):
    """The legal entity; one installation usually serves one bank."""

    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    """A branch (分行): the widest scope a branch head sees."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="branches")
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    city = models.CharField(_("city"), max_length=50)

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")

    def __str__(self) -> str:
        return self.name


class SubBranch(Lineage):
    """A sub-branch (支行) of a branch, usually one per city district."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="sub_branches")
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    district = models.CharField(_("district"), max_length=50)

    class Meta:
        ordering = ["code"]
        verbose_name = _("sub-branch")
        verbose_name_plural = _("sub-branches")

    def __str__(self) -> str:
        return self.name


class Team(Lineage):
    """A team inside a branch or sub-branch; strike (攻坚) and follow-up (跟进) teams work in pairs."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="teams")
    sub_branch = models.ForeignKey(
        SubBranch, on_delete=models.PROTECT, related_name="teams", null=True, blank=True
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=TeamKind.choices, default=TeamKind.REGULAR)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Staff(Lineage):
    """A person at the bank, linked to one login; role and business line decide what they may do."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staff")
    employee_no = models.CharField(_("employee number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=50)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="staff")
    sub_branch = models.ForeignKey(
        SubBranch, on_delete=models.PROTECT, related_name="staff", null=True, blank=True
    )
    team = models.ForeignKey(Team, on_delete=models.SET_NULL, related_name="members", null=True, blank=True)
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    business_line = models.CharField(_("business line"), max_length=16, choices=BusinessLine.choices)
    daily_capacity = models.PositiveSmallIntegerField(_("daily call capacity"), default=80)

    objects = StaffQuerySet.as_manager()

    class Meta:
        ordering = ["employee_no"]
        verbose_name = _("staff")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return f"{self.name} ({self.employee_no})"


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

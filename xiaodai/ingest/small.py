"""The organisation feeds (sub-branches, teams, staff, tags, enterprises): a few thousand rows at most, loaded
through the ORM because staff need login accounts and teams are keyed by name within the branch."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db import models

from xiaodai.customers.models import Enterprise, Tag
from xiaodai.ingest.load import FeedFigures, _jsonable, row_hash
from xiaodai.ingest.models import RowVersion
from xiaodai.ingest.validate import RowProblem
from xiaodai.org.models import Staff, SubBranch, Team

SMALL_FEEDS = ("sub_branches", "teams", "staff", "tags", "enterprises")


def load_small(
    feed: str,
    rows: list[tuple[int, dict[str, Any]]],
    *,
    run_id: int,
    data_date: Any,
    branch_id: int,
    quarantine: bool = False,
) -> FeedFigures:
    """Upsert the rows of one organisation feed; returns its figures and any reference problems."""
    figures = FeedFigures()
    model, key, fields_of = _SPEC[feed]
    existing = {getattr(obj, key): obj for obj in _existing(model, branch_id)}
    subs = {s.code: s.pk for s in SubBranch.objects.filter(branch_id=branch_id)}
    teams = {t.name: t.pk for t in Team.objects.filter(branch_id=branch_id)}
    for line, values in rows:
        try:
            wanted = fields_of(values, subs, teams, branch_id)
        except LookupError as exc:
            figures.problems.append(
                RowProblem(line, str(exc.args[0]), "unknown_reference", str(exc.args[1]), "")
            )
            continue
        digest = row_hash(wanted.values())
        lineage = {"ingest_batch": run_id, "data_date": data_date, "row_hash": digest}
        obj = existing.get(values[key])
        if obj is None:
            if model is Staff:
                if User.objects.filter(username=values["username"]).exists():
                    message = f"login name {values['username']} is taken by another account"
                    figures.problems.append(RowProblem(line, "username", "username_taken", message, ""))
                    continue
                user = User.objects.create_user(username=values["username"], password=None)
                wanted["user_id"] = user.pk
            obj = model._default_manager.create(**wanted, **lineage)
            existing[values[key]] = obj
            figures.loaded += 1
        elif obj.row_hash == digest:
            figures.unchanged += 1
        else:
            before = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
            RowVersion.objects.create(
                run_id=run_id, table=model._meta.db_table, row_id=obj.pk, before=_jsonable(before)
            )
            model._default_manager.filter(pk=obj.pk).update(**wanted, **lineage)
            figures.updated += 1
    # Rows with problems were skipped; in reject mode the caller refuses the whole drop.
    figures.rejected = len(figures.problems)
    return figures


def _existing(model: type[models.Model], branch_id: int) -> Any:
    if model is Tag:
        return Tag.objects.all()
    return model._default_manager.filter(branch_id=branch_id)


def _sub_branch(
    values: dict[str, Any], subs: dict[str, int], teams: dict[str, int], branch_id: int
) -> dict[str, Any]:
    return {
        "code": values["code"],
        "name": values["name"],
        "district": values["district"] or "",
        "branch_id": branch_id,
    }


def _team(
    values: dict[str, Any], subs: dict[str, int], teams: dict[str, int], branch_id: int
) -> dict[str, Any]:
    sub = values["sub_branch_code"]
    if sub and sub not in subs:
        raise LookupError("sub_branch_code", f"sub-branch {sub} is neither in this drop nor in the database")
    return {
        "name": values["name"],
        "kind": values["kind"],
        "sub_branch_id": subs.get(sub),
        "branch_id": branch_id,
    }


def _staff(
    values: dict[str, Any], subs: dict[str, int], teams: dict[str, int], branch_id: int
) -> dict[str, Any]:
    sub, team = values["sub_branch_code"], values["team_name"]
    if sub and sub not in subs:
        raise LookupError("sub_branch_code", f"sub-branch {sub} is neither in this drop nor in the database")
    if team and team not in teams:
        raise LookupError("team_name", f"team {team} is neither in this drop nor in the database")
    return {
        "employee_no": values["employee_no"],
        "name": values["name"],
        "role": values["role"],
        "business_line": values["business_line"],
        "branch_id": branch_id,
        "sub_branch_id": subs.get(sub),
        "team_id": teams.get(team),
        "daily_capacity": values["daily_capacity"] if values["daily_capacity"] is not None else 80,
    }


def _tag(
    values: dict[str, Any], subs: dict[str, int], teams: dict[str, int], branch_id: int
) -> dict[str, Any]:
    return {"code": values["code"], "name": values["name"], "kind": values["kind"]}


def _enterprise(
    values: dict[str, Any], subs: dict[str, int], teams: dict[str, int], branch_id: int
) -> dict[str, Any]:
    return {
        "code": values["code"],
        "name": values["name"],
        "industry": values["industry"] or "",
        "employee_count": values["employee_count"] or 0,
        "is_payroll_partner": bool(values["is_payroll_partner"]),
        "branch_id": branch_id,
    }


_SPEC: dict[str, tuple[type[models.Model], str, Any]] = {
    "sub_branches": (SubBranch, "code", _sub_branch),
    "teams": (Team, "name", _team),
    "staff": (Staff, "employee_no", _staff),
    "tags": (Tag, "code", _tag),
    "enterprises": (Enterprise, "code", _enterprise),
}

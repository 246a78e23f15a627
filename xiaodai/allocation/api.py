"""The allocation JSON API under /api/v1/ (token auth, scoped like the pages, the same services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from xiaodai.allocation import selectors, services
from xiaodai.allocation.exceptions import AllocationError, OverCapacity
from xiaodai.allocation.forms import AllocationForm
from xiaodai.allocation.planning import Plan, new_seed, plan_allocation
from xiaodai.core.access import actor_of
from xiaodai.core.masking import mask_name
from xiaodai.core.roles import Perm
from xiaodai.org.models import Staff

router = Router(tags=["allocation"])


def _staff(request: HttpRequest, perm: str) -> Staff:
    if not actor_of(request.user).has(perm):
        raise HttpError(403, "Forbidden")
    return request.user.staff  # type: ignore[union-attr]


class ClaimIn(Schema):
    customer_ids: list[int]
    pool: str = ""


class ClaimResultOut(Schema):
    customer_id: int
    ok: bool
    code: str
    message: str
    assignment_id: int | None


class ClaimOut(Schema):
    claimed: int
    results: list[ClaimResultOut]


@router.post("/claims", response=ClaimOut, summary="Claim customers: a result per id (claimed, or why not)")
def claim(request: HttpRequest, payload: ClaimIn) -> dict[str, object]:
    staff = _staff(request, Perm.CLAIM_CUSTOMERS)
    try:
        results = services.claim_customers(staff, payload.customer_ids, pool=payload.pool)
    except AllocationError as exc:
        raise HttpError(400, exc.message) from exc
    return {"claimed": sum(1 for r in results if r.ok), "results": results}


class AssignmentOut(Schema):
    id: int
    customer_id: int
    customer_no: str
    name: str
    staff_id: int
    kind: str
    status: str
    pool: str
    control: bool
    protected_until: dt.date
    lapses_on: dt.date | None
    last_contact_at: dt.datetime | None
    deadline: dt.date | None
    note: str


class AssignmentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[AssignmentOut]


@router.get("/assignments", response=AssignmentPage, summary="My active claims, allocations and hand-offs")
def assignments(request: HttpRequest, page: int = 1) -> dict[str, object]:
    _staff(request, Perm.WORK_CALLS)
    pager = Paginator(selectors.assignments(request.user, mine=True), settings.XIAODAI_PAGE_SIZE)
    current = pager.get_page(page)
    rows = [
        {
            "id": a.pk,
            "customer_id": a.customer_id,
            "customer_no": a.customer.customer_no,
            "name": mask_name(a.customer.name),
            "staff_id": a.staff_id,
            "kind": a.kind,
            "status": a.status,
            "pool": a.pool,
            "control": a.control,
            "protected_until": a.protected_until,
            "lapses_on": a.lapses_on,
            "last_contact_at": a.last_contact_at,
            "deadline": a.deadline,
            "note": a.note,
        }
        for a in current
    ]
    return {"count": pager.count, "page": current.number, "pages": pager.num_pages, "results": rows}


class AllocationIn(Schema):
    """The allocation page's fields; shares in percent (5 = 5 %)."""

    pool: str = ""
    sub_branch: int | None = None
    prob_min: Decimal | None = None
    prob_max: Decimal | None = None
    ev_min: Decimal | None = None
    only_unworked: bool = False
    target: str = "people"
    people: list[int] = []
    teams: list[int] = []
    capacity: int | None = None
    days: int = 5
    control_share: Decimal | None = None
    cap: bool = False
    seed: int | None = None


class PersonOut(Schema):
    staff_id: int
    name: str
    team: str
    target: bool
    capacity: int
    existing: int
    new: int
    control: int
    to_owner: int
    room: int


class OverOut(Schema):
    name: str
    assigned: int
    capacity: int
    over: int


class PlanOut(Schema):
    seed: int
    control_share: Decimal
    allocated: int
    to_call: int
    to_owner: int
    held_back: int
    skipped: dict[str, int]
    people: list[PersonOut]
    over: list[OverOut]


class BatchOut(Schema):
    id: int
    allocated: int
    to_owner: int
    held_back: int
    skipped: int


def _form(request: HttpRequest, payload: AllocationIn) -> AllocationForm:
    data: dict[str, object] = {k: v for k, v in payload.dict().items() if v is not None and k != "seed"}
    data["only_unworked"] = "on" if payload.only_unworked else ""
    data["cap"] = "on" if payload.cap else ""
    form = AllocationForm(request.user, data)
    if not form.is_valid():
        problems = (f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items())
        raise HttpError(400, "; ".join(problems))
    return form


def _plan_out(plan: Plan) -> dict[str, object]:
    return {
        "seed": plan.seed,
        "control_share": plan.control_share,
        "allocated": plan.allocated,
        "to_call": plan.to_call,
        "to_owner": plan.to_owner,
        "held_back": plan.held_back,
        "skipped": {k: n for k, n in plan.skipped.items() if n},
        "people": [
            {
                "staff_id": r.staff_id,
                "name": r.name,
                "team": r.team,
                "target": r.target,
                "capacity": r.capacity,
                "existing": r.existing,
                "new": r.new,
                "control": r.control,
                "to_owner": r.to_owner,
                "room": r.room,
            }
            for r in plan.rows
        ],
        "over": [
            {"name": o.name, "assigned": o.assigned, "capacity": o.capacity, "over": o.over}
            for o in plan.over
        ],
    }


@router.post(
    "/allocations/preview",
    response=PlanOut,
    summary="Preview a bulk allocation: per person, to owners, control group, skipped (nothing written)",
)
def preview(request: HttpRequest, payload: AllocationIn) -> dict[str, object]:
    staff = _staff(request, Perm.ALLOCATE)
    form = _form(request, payload)
    seed = payload.seed if payload.seed is not None else new_seed()
    try:
        return _plan_out(plan_allocation(staff, form.params(), seed=seed))
    except AllocationError as exc:
        raise HttpError(400, exc.message) from exc


@router.post(
    "/allocations",
    response={201: BatchOut},
    summary="Commit a bulk allocation (pass the preview's seed for the same control group)",
)
def commit(request: HttpRequest, payload: AllocationIn) -> Status:
    staff = _staff(request, Perm.ALLOCATE)
    form = _form(request, payload)
    seed = payload.seed if payload.seed is not None else new_seed()
    try:
        batch = services.allocate_customers(staff, form.params(), seed=seed)
    except OverCapacity as exc:
        raise HttpError(409, exc.message) from exc
    except AllocationError as exc:
        raise HttpError(400, exc.message) from exc
    return Status(201, batch)

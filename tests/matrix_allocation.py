"""Permission-matrix rows for the allocation app's URLs (merged into tests/test_permission_matrix.py)."""

from __future__ import annotations

from tests.matrix_common import Spec

SPEC: dict[str, Spec] = {}

# URL name -> roles that hold the permission but for whom the spec's 'own' object is out of scope.
PERM_HOLDERS: dict[str, list[str]] = {}

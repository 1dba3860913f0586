"""IAM policies on emulated resources (getIamPolicy / setIamPolicy / testIamPermissions)."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from typing import Any

from google.iam.v1 import iam_policy_pb2, policy_pb2

from localcloud import protojson
from localcloud.errors import ApiError, invalid

# What a resource nobody has touched answers: version 1, no bindings, etag ACAB.
_EMPTY_ETAG = "ACAB"
_MEMBER = re.compile(
    r"^(allUsers|allAuthenticatedUsers|"
    r"(user|serviceAccount|group|domain|deleted:user|deleted:serviceAccount|deleted:group):\S+|"
    r"principal(Set)?://\S+)$"
)


def get_policy(record: dict[str, Any]) -> dict[str, Any]:
    return record.get("policy") or {"version": 1, "etag": _EMPTY_ETAG}


def set_policy(record: dict[str, Any], body: Any) -> dict[str, Any]:
    request = protojson.parse(body, iam_policy_pb2.SetIamPolicyRequest)
    policy = request.get("policy")
    if policy is None:
        raise invalid("policy must be specified.")
    current = get_policy(record)
    if policy.get("etag") and policy["etag"] != current["etag"]:
        raise ApiError(
            "ABORTED",
            "There were concurrent policy changes. Please retry the whole read-modify-write "
            "with exponential backoff.",
        )
    bindings = []
    for binding in policy.get("bindings", []):
        role = binding.get("role", "")
        if not role.startswith(("roles/", "projects/", "organizations/")):
            raise invalid(f"Role {role!r} is not a valid role name.")
        for member in binding.get("members", []):
            if not _MEMBER.match(member):
                raise invalid(f"Invalid member {member!r} in binding for role {role}.")
        if binding.get("members"):
            bindings.append(binding)
    new = {"version": policy.get("version") or 1, "etag": base64.b64encode(os.urandom(8)).decode()}
    if bindings:
        new["bindings"] = bindings
    if policy.get("auditConfigs"):
        new["auditConfigs"] = policy["auditConfigs"]
    record["policy"] = new
    return new


def test_permissions(body: Any) -> dict[str, Any]:
    request = protojson.parse(body, iam_policy_pb2.TestIamPermissionsRequest)
    # The emulator grants everything to everyone; it does not model callers.
    permissions = request.get("permissions", [])
    return {"permissions": permissions} if permissions else {}


def render(policy: dict[str, Any], int_enums: bool) -> dict[str, Any]:
    return protojson.render(policy, policy_pb2.Policy, int_enums)


def answer_post_verb(
    verb: str, record: dict[str, Any], body: Any, int_enums: bool, save: Callable[[], None]
) -> dict[str, Any] | None:
    """The IAM verbs every resource accepts by POST (`:setIamPolicy`, `:testIamPermissions`);
    None for any other verb, which the resource's own handler answers."""
    if verb == "setIamPolicy":
        policy = set_policy(record, body)
        save()
        return render(policy, int_enums)
    if verb == "testIamPermissions":
        return test_permissions(body)
    return None

"""The base of every request body: strict types and no unknown fields.

FastAPI validates a body in pydantic's Python mode, after `json.loads`. Lax Python mode turns `1`
into `true`, `"8080"` into `8080` and `8080.0` into `8080`, which a fuzzer (or a typo) then
sends on as if it were meant; `strict=True` refuses them. Strict Python mode would also refuse a
JSON string for a UUID or an enum (it wants the Python object), so those fields say `FromString`,
which lets exactly that conversion through.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Strict

# For a UUID, enum or datetime field: JSON carries it as a string, which strict mode would refuse.
FromString = Strict(False)


class RequestModel(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

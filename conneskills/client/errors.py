"""The client's one error type: the API's envelope `{"error": {"code", "message", "details"}}`."""

from __future__ import annotations

from typing import Any

import httpx


class ConneSkillsError(Exception):
    """A refused request (`status_code` set, `code`/`message`/`details` from the API's envelope),
    or no answer at all (`status_code` None, `code` `connection_error` or `timeout`)."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "error",
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.details = details or {}

    def __str__(self) -> str:
        where = f"{self.status_code} " if self.status_code else ""
        return f"{where}{self.code}: {self.message}"

    @property
    def fields(self) -> list[dict[str, str]]:
        """A validation error's fields (`[{"field", "message"}]`), else empty."""
        fields = self.details.get("fields")
        return fields if isinstance(fields, list) else []

    @classmethod
    def from_response(cls, response: httpx.Response) -> ConneSkillsError:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict) and "message" in error:
            return cls(
                str(error["message"]),
                code=str(error.get("code") or f"http_{response.status_code}"),
                status_code=response.status_code,
                details=error.get("details") if isinstance(error.get("details"), dict) else None,
            )
        # Not the API's envelope (a proxy in front, a gateway): the status line and a bounded body.
        text = response.text.strip()[:500] or response.reason_phrase
        return cls(text, code=f"http_{response.status_code}", status_code=response.status_code)


class JobWaitTimeout(ConneSkillsError):
    """`wait(job_id, timeout)` ran out of time; `job` is the job as last read."""

    def __init__(self, job_id: str, timeout: float, job: Any) -> None:
        status = getattr(job, "status", None)
        super().__init__(
            f"job {job_id} is still {status} after {timeout:g} s",
            code="timeout",
            details={"job_id": job_id, "status": str(status) if status else None},
        )
        self.job = job

"""The document of a request for clarification, as the state receives it: the questions, the
evidence shared (exactly as approved), the deadline and, once given, the answer; the
classification on its first and last line (and on every page of its PDF)."""

from __future__ import annotations

from registry.models_states import ClarificationRequest

__all__ = ["classification_line", "request_markdown"]


def classification_line(classification: str) -> str:
    """The line that opens and closes every document: 'Classification: PROTECTED'."""
    return f"Classification: {classification.replace('_', ' ').upper()}"


def request_markdown(req: ClarificationRequest, classification: str) -> str:
    """The request as Markdown (data cells made inert as in the challenge request)."""
    from registry.challenge import _cell, _table
    from registry.words import country_name

    lines = [
        classification_line(classification),
        "",
        f"# Request for clarification {req.id}",
        "",
        f"- To: the national authority of {_cell(country_name(req.state))}",
        f"- Sent: {req.decided_at:%Y-%m-%d %H:%M} UTC" if req.decided_at else "- Not sent yet",
        f"- Answer due: {req.deadline_at:%Y-%m-%d %H:%M} UTC" if req.deadline_at else "",
        "",
        "## Questions",
        "",
        _cell(req.questions),
        "",
        "## Evidence shared with the state",
        "",
        *_table(["what", "value"], [[s["label"], s["value"]] for s in req.shared]),
        "",
    ]
    if req.answer is not None:
        lines += [
            "## Answer",
            "",
            f"- Given by {_cell(req.answered_by)} on {req.answered_at:%Y-%m-%d %H:%M} UTC"
            if req.answered_at
            else "",
            "",
            _cell(req.answer),
            "",
        ]
    lines.append(classification_line(classification))
    return "\n".join(line for line in lines) + "\n"

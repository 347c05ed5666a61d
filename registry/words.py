"""Plain words for the registry's codes: statuses, actions, reasons, roles, screen verdicts and
country names, for everything a person reads (console, request document, command-line tables).

Codes stay codes in machine-readable output (CSV, JSON); people read these words.
"""

from __future__ import annotations

from functools import cache

from registry.service import DISMISS_REASONS

__all__ = [
    "ACTION_WORDS",
    "REQUEST_STATUS_WORDS",
    "STATUS_WORDS",
    "action_word",
    "country_name",
    "reason_word",
    "status_word",
    "verdict_word",
]

STATUS_WORDS = {
    "new": "new",
    "assigned": "assigned",
    "in_review": "in review",
    "pending_escalation": "escalation pending",
    "pending_dismissal": "dismissal pending",
    "escalated": "escalated",
    "dismissed": "dismissed",
}

# A request for clarification's status (registry.clarifications).
REQUEST_STATUS_WORDS = {
    "pending_approval": "draft, awaiting approval",
    "rejected": "rejected",
    "open": "sent, awaiting the answer",
    "answered": "answered",
    "closed": "closed",
    "followed_up": "asked again",
    "challenge_proposed": "challenge inspection proposed",
}

ACTION_WORDS = {
    "claim": "Claim",
    "assign": "Assign",
    "start_review": "Start review",
    "note": "Add note",
    "escalate": "Propose escalation",
    "dismiss": "Dismiss",
    "approve": "Approve",
    "reject": "Reject",
    "reopen": "Reopen",
    "tune_thresholds": "Change thresholds",
    "promote_analogue": "Promote to the watchlist",
    "login": "Log in",
}

# The screen's verdicts in one vocabulary. A designer precursor on the special-surveillance
# list comes back from detection's screen as "controlled" against that list's entry: it is
# an analogue, not a listed substance (one substance, one verdict everywhere).
_VERDICT_WORDS = {
    "controlled": "listed precursor",
    "analogue": "designer analogue (not listed)",
    "clear": "not a listed precursor",
}

# ISO names that read badly in a sentence or a chart axis.
_COUNTRY_SHORT = {
    "COD": "DR Congo",
    "COG": "Congo",
    "PSE": "Palestine",
    "RUS": "Russia",
    "GBR": "United Kingdom",
    "USA": "United States",
    "VIR": "US Virgin Islands",
    "VGB": "British Virgin Islands",
    "MAC": "Macao",
    "HKG": "Hong Kong",
    "FSM": "Micronesia",
}


def status_word(status: str | None) -> str:
    return STATUS_WORDS.get(status or "", (status or "").replace("_", " "))


def action_word(action: str | None) -> str:
    return ACTION_WORDS.get(action or "", (action or "").replace("_", " ").capitalize())


def reason_word(code: str | None) -> str:
    """A dismissal reason code in words ('' for none)."""
    if not code:
        return ""
    return DISMISS_REASONS.get(code, code.replace("_", " "))


def verdict_word(verdict: str | None, substance_cas: str | None = None) -> str:
    """The screen's verdict in the console's one vocabulary."""
    from detection.surveillance import SURVEILLANCE_IDS

    if verdict == "controlled" and substance_cas in SURVEILLANCE_IDS:
        verdict = "analogue"
    return _VERDICT_WORDS.get(verdict or "", verdict or "not screened")


@cache
def country_name(code: str | None) -> str:
    """'Mexico' for 'MEX'; the code itself when it is not an ISO 3166 alpha-3 code."""
    if not code:
        return ""
    code = code.strip().upper()
    if code in _COUNTRY_SHORT:
        return _COUNTRY_SHORT[code]
    import pycountry

    found = pycountry.countries.get(alpha_3=code)
    if found is None:
        return code
    name = str(getattr(found, "common_name", None) or found.name)
    return name.split(",")[0] if "," in name else name

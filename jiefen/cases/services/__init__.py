"""Every change to a case: one function per move of the lifecycle (DESIGN §3).

Each function takes keyword-only arguments and an explicit ``actor``, checks the actor may make the move,
runs in one transaction, and writes its case events (and so the audit log) in that transaction. A move made
against a case someone else has just changed raises ``Conflict``; a move the lifecycle forbids raises
``IllegalMove``; neither changes anything.
"""

from jiefen.cases.events import write_events
from jiefen.cases.services._core import (
    _move,
)
from jiefen.cases.services.acceptance import (
    accept_case,
    answer_now,
    decline_case,
    link_to_matter,
    merge_case,
    transfer_case,
)
from jiefen.cases.services.assignments import (
    dispatch_case,
    pass_down_assignment,
    return_assignment,
    review_return,
    sign_assignment,
    submit_assist_part,
)
from jiefen.cases.services.enrichment import (
    Enricher,
    add_enricher,
    each_case,
    enrich_pending,
    intake_enrichers,
)
from jiefen.cases.services.follow_up import (
    close_after_follow_up_window,
    close_after_review_window,
    decide_reexam,
    decide_review,
    record_feedback,
    request_reexam,
    request_review,
    resume_case,
    withdraw_case,
)
from jiefen.cases.services.handling import (
    REPLY_PARTS,
    add_note,
    approve_reply,
    decide_extension,
    draft_reply,
    extend_handling,
    receive_info,
    request_extension,
    request_info,
    send_reply,
)
from jiefen.cases.services.registration import (
    BulkRegistration,
    Registered,
    number_ahead,
    register_case,
    register_cases,
)

__all__ = [
    "REPLY_PARTS",
    "BulkRegistration",
    "Enricher",
    "K",
    "Registered",
    "_move",
    "accept_case",
    "add_enricher",
    "add_note",
    "answer_now",
    "approve_reply",
    "close_after_follow_up_window",
    "close_after_review_window",
    "decide_extension",
    "decide_reexam",
    "decide_review",
    "decline_case",
    "dispatch_case",
    "draft_reply",
    "each_case",
    "enrich_pending",
    "extend_handling",
    "intake_enrichers",
    "link_to_matter",
    "merge_case",
    "number_ahead",
    "pass_down_assignment",
    "receive_info",
    "record_feedback",
    "register_case",
    "register_cases",
    "request_extension",
    "request_info",
    "request_reexam",
    "request_review",
    "resume_case",
    "return_assignment",
    "review_return",
    "send_reply",
    "sign_assignment",
    "submit_assist_part",
    "transfer_case",
    "withdraw_case",
    "write_events",
]

"""Every text a phone gets from us, in one place (reviewed in docs/notifications.md).

A text or a call reaches a lock screen, a car's speaker, a shared phone: it says that there is an
offer for the team, its priority and how to answer. Never an address, a name, a call type or any
word about health or a person's condition. The team's call sign and the common priority (0–10) are
dispatch fields the responders already wear on their radios.
"""

from __future__ import annotations

PROGRAM = "Durham Co-Response"


def offer_sms(*, call_sign: str, priority: int, ref: str) -> str:
    # Under 160 GSM-7 characters: one segment, one price.
    return (
        f"{PROGRAM} {call_sign}: new call offer, priority {priority}. "
        f"Reply 1 to accept, 2 to decline. Details in the app. Ref {ref}"
    )


def offer_voice(*, call_sign: str, priority: int) -> str:
    spaced = " ".join(call_sign)  # "C R - A" is read letter by letter
    return (
        f"This is {PROGRAM}. Team {spaced} has a new call offer, priority {priority}. "
        "Press 1 to accept. Press 2 to decline."
    )


VOICE_REPROMPT = "Press 1 to accept or 2 to decline."
VOICE_NO_INPUT = "No answer was recorded. Please open the app. Goodbye."
VOICE_NOT_OPEN = f"This is {PROGRAM}. This call offer is no longer open. Please open the app. Goodbye."


def verification_sms(*, code: str, minutes: int) -> str:
    return f"{PROGRAM}: your verification code is {code}. It expires in {minutes} minutes."


def accepted(call_sign: str) -> str:
    return f"Accepted for {call_sign}. Open the app for the details."


def declined(call_sign: str) -> str:
    return f"Declined for {call_sign}. Dispatch has been told."


def late(status: str) -> str:
    return f"This call offer is no longer open ({status}). Nothing was changed. Open the app."


REFUSED = "Your answer could not be recorded for this offer. Nothing was changed. Open the app."
NO_OFFER = "There is no open call offer for you. Nothing was changed. Open the app."
UNKNOWN_SENDER = f"{PROGRAM}: this number is not set up for replies. Nothing was changed."
NOT_UNDERSTOOD = "Reply 1 to accept or 2 to decline the latest call offer. Reply HELP for help, STOP to stop texts."
HELP = (
    f"{PROGRAM} dispatch alerts. Reply 1 to accept, 2 to decline an offer. "
    "Reply STOP to stop texts, START to resume. Contact your supervisor for help."
)
OPTED_IN = f"{PROGRAM}: texts are on again for this number."

"""Scripted contacts with fixed ids and fixed words, for end-to-end tests and the demo (README lists them).

Each gets a window of the run (fractions of the duration); its gaps are compressed so it ends inside
that window, so all of them complete within a 60 s run."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .conversation import Conversation, Turn
from .events import CXPULSE, ContactInfo, SimEvent, timeline

A, C = "agent", "customer"


@dataclass(frozen=True)
class Script:
    contact_id: str
    account_id: str
    agent_id: str
    channel: str
    stage: str
    queue: str
    reason: str
    window: tuple[float, float]  # share of the run: starts at the first, ends by the second
    turns: tuple[tuple[str, int, str], ...]  # (speaker, mood, text)
    disposition: str


def _churn(n: int, stage: str, reason: str, agent: str, disposition: str, *turns: tuple[str, int, str]) -> Script:
    start = 0.005 + 0.22 * (n - 1)
    return Script(f"c-script-churn-{n}", "acct-script-churn", agent, "voice", stage,
                  "retention" if stage == "cancellation" else "tech-support", reason, (start, start + 0.2),
                  turns, disposition)


SCRIPTS: tuple[Script, ...] = (
    Script("c-script-escalating", "acct-script-escalating", "agent-script-poor", "voice", "billing", "billing",
           "bill_increase", (0.01, 0.85), (
               (A, 0, "Thank you for calling, this is Dana. How can I help you today?"),
               (C, 0, "Hi, I think there's a mistake on my bill this month."),
               (A, 0, "Can you give me your account number, please?"),
               (C, 0, "I already gave it to the machine. The bill is forty dollars higher than usual."),
               (A, 0, "I see the charge. That's the correct amount according to our system."),
               (C, -1, "That can't be right, I never ordered anything new. This is getting frustrating."),
               (A, 0, "The system shows it was added. There's nothing I can change on my end."),
               (C, -1, "I've been on hold for forty minutes and now you tell me nothing can be done? "
                       "That's not acceptable."),
               (A, 0, "That's our policy, I'm afraid."),
               (C, -2, "This is ridiculous. I am furious, you charged me for something I never asked for."),
               (A, 0, "I can transfer you to another department if you want."),
               (C, -3, "No! I have been transferred three times already. This is the worst service I have ever had."),
               (A, 0, "There's really nothing else I can do."),
               (C, -3, "Unbelievable. You people are useless, I am absolutely livid and sick of being lied to."),
               (A, 0, "Please don't raise your voice."),
               (C, -3, "I'm disgusted. This is a terrible, horrible company and I want to speak to your manager "
                       "right now."),
           ), "escalated_supervisor"),
    Script("c-script-calm", "acct-script-calm", "agent-script-skilled", "chat", "onboarding", "new-customers",
           "setup", (0.02, 0.6), (
               (A, 1, "Hi there, welcome to chat support! My name is Alex. How can I help?"),
               (C, 0, "Hello, I just signed up and would like to set up automatic payments."),
               (A, 1, "Great, I can help with that. Would you like them to come from a card or a bank account?"),
               (C, 0, "A bank account please, that works best for me."),
               (A, 1, "Done. Autopay is now set up and starts with your next bill."),
               (C, 1, "Perfect, that was easy. Thank you very much."),
               (A, 1, "My pleasure! Anything else I can do for you today?"),
               (C, 1, "No, that's all. Have a great day!"),
           ), "resolved"),
    Script("c-script-recovered", "acct-script-recovered", "agent-script-skilled", "voice", "billing", "billing",
           "double_charge", (0.03, 0.85), (
               (A, 1, "Thanks for calling, this is Jordan. I'm here to help, what's going on?"),
               (C, -2, "I'm really upset. You charged me twice for the same order and now my account is overdrawn."),
               (A, 1, "I'm so sorry, that's a stressful thing to find. Let me look at it right away."),
               (C, -2, "I've already wasted an hour on this and nobody has fixed it."),
               (A, 1, "I completely understand. I can see both charges of eighty-nine dollars, and the second one "
                      "is a duplicate."),
               (C, -1, "So what are you going to do about it?"),
               (A, 1, "I've refunded the duplicate charge just now and added a note so it can't happen again."),
               (C, 1, "Okay, that's a relief. Thank you for sorting it out so quickly."),
               (A, 1, "You're welcome. Is there anything else I can help with?"),
               (C, 2, "No, that's everything. You've been really helpful, thanks a lot, I appreciate it."),
           ), "refund_issued"),
    _churn(1, "technical_support", "outage", "agent-script-skilled", "fixed",
           (A, 1, "Thanks for calling, you're speaking with Sam. What can I do for you?"),
           (C, -1, "My internet keeps dropping every evening and I need it for work."),
           (A, 1, "I'm sorry about that. I've reset the line from our side, it should be stable now."),
           (C, 0, "Okay, I hope that fixes it this time.")),
    _churn(2, "technical_support", "outage", "agent-script-poor", "technician_booked",
           (A, 0, "Hello, this is Priya, how can I help?"),
           (C, -1, "I called last week about my internet dropping out and it is still happening every night."),
           (A, 0, "Let me run another line test."),
           (C, -2, "This is the second time I'm calling about the same problem. It's really annoying."),
           (A, 0, "I've booked a technician visit for Friday."),
           (C, -2, "Fine, but I'm not happy about losing another week.")),
    _churn(3, "technical_support", "outage", "agent-script-poor", "unresolved",
           (A, 0, "Thank you for calling, my name is Leo."),
           (C, -2, "Third call about the same outage. The technician never showed up on Friday."),
           (A, 0, "I can see the visit was cancelled."),
           (C, -3, "Nobody even told me! I'm paying for a service I don't get and I'm fed up."),
           (A, 0, "I can offer a credit of ten dollars."),
           (C, -3, "Ten dollars doesn't fix anything. This is terrible.")),
    _churn(4, "cancellation", "cancel_contract", "agent-script-poor", "cancellation_requested",
           (A, 0, "Hi, you've reached Mia. How can I help today?"),
           (C, -3, "This is my fourth call and my internet is still broken. I'm done with this."),
           (A, 0, "Let me look at your account."),
           (C, -3, "Don't bother. I want to cancel my contract today, I'm switching to another provider."),
           (A, 0, "I can transfer you to our retention team."),
           (C, -3, "I've had enough of your awful service. Just cancel it.")),
)


def script_events(script: Script, duration_s: float) -> list[SimEvent]:
    customer = script.account_id.replace("acct-", "cust-")
    info = ContactInfo(script.contact_id, script.account_id, customer, script.agent_id, script.queue,
                       script.channel, script.stage, script.reason, CXPULSE)
    turns = [Turn(speaker, text, mood, "script") for speaker, mood, text in script.turns]
    conversation = Conversation("script", turns, True, script.disposition)
    start, end = (share * duration_s for share in script.window)
    pace = 1.0
    for _ in range(5):  # shrink the gaps until the contact ends inside its window
        events = timeline(random.Random(script.contact_id), info, conversation, start, pace=pace)
        length = events[-1].at_s - start
        if start + length <= end:
            return events
        pace *= (end - start) / length * 0.98
    return events


def scripted_events(duration_s: float) -> list[SimEvent]:
    return [event for script in SCRIPTS for event in script_events(script, duration_s)]

"""Client status through names: "Ms. Lindqvist has helped me so much", "I see Priya on Wednesdays".

A clinician's or the practice's name next to a client verb reveals that someone is a client
(policy P6), so it is a clinical disclosure. Without configured names an honorific + surname
("Dr. Halvorsen") still counts; praise of a colleague or a booking question does not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rules.loader import Rule, compile_lower
from rules.normalize import normalize

# Honorific + capitalised surname (case-sensitive), or a lower-case "dr so-and-so".
HONORIFIC = (
    r"(?:(?-i:\b(?:Dr|Doctor|Ms|Mrs|Mr|Mx|Miss)\.? ?[A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+)?)"
    r"|\b(?:dr|doctor)\.? [a-z]{3,})"
)
_NOT_CLIENT = (
    r"\b(?:book|booking|schedule|waitlist|wait list|first|initial|intake|new client|linkedin|connect|grad school|"
    r"colleague|conference|podcast|panel|talk|presentation|webinar|workshop|article|paper|thesis|cite|"
    r"congratulations|congrats|retire\w*|anniversary|farmers market)\b"
)
_STOP = frozenset({"the", "and", "counseling", "counselling", "therapy", "center", "centre", "group", "practice"})


def _name_alternatives(names: Sequence[str], *, tokens: bool) -> list[str]:
    alts: set[str] = set()
    for raw in names:
        name = normalize(raw).text.strip(" .")
        if not name:
            continue
        alts.add(re.escape(name))
        alts.add(re.escape(name.replace(" ", "")))
        if tokens:
            alts.update(re.escape(t) for t in name.split() if len(t) >= 3 and t.lower() not in _STOP and t[0].isupper())
    return sorted(alts, key=len, reverse=True)


def client_status_rules(practice_names: Sequence[str] = (), clinicians: Sequence[str] = ()) -> list[Rule]:
    """Rules for the disclosure pack, built from the practice's own names plus the generic honorific."""
    people = _name_alternatives(clinicians, tokens=True)
    who = "(?:" + "|".join([HONORIFIC, *(rf"\b{p}\b" for p in people)]) + ")"
    client_verbs = (
        r"(?:helped|helps|has helped|got|gets|saved|pulled|walked|carried|treated|treats|diagnosed|prescribed|"
        r"coordinated|worked with|has been helping|is helping|was (?:wonderful|amazing|great|so patient) with|"
        r"told me|wants me|asked me|gave me|said i|says i|suggested i|thinks i)"
    )
    patterns = [
        rf"{who}s?(?: \w+){{0,3}}? {client_verbs}\b(?! (?:the|a|this) (?:conference|talk|panel|room|audience))",
        rf"\b(?:seeing|see|saw|seen|w|visit|client of|patient of|with) {who}",
        rf"\b(?:therapist|counsell?or|psychiatrist|psychologist|clinician)(?: \w+){{0,4}} (?:is|was) {who}",
        rf"{who}s (?:client|clients|patient|patients|group)\b",
        rf"\b(?:reschedul\w*|cancel\w*|move|push) [^.!?\n]{{0,60}}{who}",
        rf"{who}[^.!?\n]{{0,60}} (?:reschedul\w*|cancel\w*)\b",
    ]
    rules = [
        Rule(
            "disclosure.clinician_client",
            "clinical_disclosure",
            "client of a named clinician",
            tuple(patterns),
            context=frozenset({"negation", "hypothetical", "fiction", "quote"}),
            unless_sentence=compile_lower(_NOT_CLIENT, "client status"),
            cased=True,
        )
    ]
    places = _name_alternatives(practice_names, tokens=False)
    if places:
        place = "(?:" + "|".join(rf"\b{p}\b" for p in places) + ")"
        rules.append(
            Rule(
                "disclosure.practice_client",
                "clinical_disclosure",
                "client of the practice",
                (
                    rf"\b(?:going to|go to|went to|been at|seeing someone at|see someone at|saw someone at|"
                    rf"client (?:at|of)|patient (?:at|of)|therapist at|counsell?or at|treated at|thanks to) {place}",
                    rf"{place} (?:has |have )?(?:helped|got|saved|pulled|carried) (?:me|my|us|our)\b",
                ),
                context=frozenset({"negation", "hypothetical", "fiction", "quote"}),
                unless_sentence=compile_lower(_NOT_CLIENT, "client status"),
                cased=True,
            )
        )
    return rules

"""Likely identifiers in a testimony, found so that an official can redact them.

The finder is deliberately eager: a word wrongly marked costs the official a glance, a
name missed could cost a member their job. The marks are plain (text, kind) segments,
rendered by templates with autoescaping on; nothing here produces HTML.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

KIND_LABELS: dict[str, str] = {
    "email": "email address",
    "phone": "phone number",
    "date": "date",
    "age": "age",
    "place": "place name",
    "name": "name",
}

_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec"
)
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# Members may write in Welsh, or in Welsh and English at once: Welsh months and days count too.
_WELSH_MONTHS = "Ionawr|Chwefror|Mawrth|Ebrill|Mai|Mehefin|Gorffennaf|Awst|Medi|Hydref|Tachwedd|Rhagfyr"
_WELSH_DAYS = r"(?:[Dd]ydd|[Nn]os)\s+(?:Llun|Mawrth|Mercher|Iau|Gwener|Sadwrn|Sul)"
# Letters as Welsh (and other Latin-script names) spell them: "Siân", "Llŷr", "Gwenllïan".
_UPPER = "A-ZÀ-ÖØ-ÞŴŶ"
_LOWER = "a-zß-öø-ÿŵŷ"

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
# UK numbers: 0 or +44, then nine or ten digits, in any grouping of spaces and hyphens.
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)\d(?:[\s)-]{0,2}\d){8,9}(?!\d)")
DATES = [
    re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b\.?(?:,?\s+\d{{4}})?"),
    re.compile(rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"),
    re.compile(rf"\b(?:{_MONTHS})\s+\d{{4}}\b"),
    re.compile(r"\b(?:January|February|March|April|June|July|August|September|October|November|December)\b"),
    re.compile(rf"\b(?:{_DAYS})\b"),
    re.compile(rf"\b\d{{1,2}}(?:af|il|ydd|ed|fed|eg|ain)?\s+(?:o\s+)?(?:{_WELSH_MONTHS})\b(?:\s+\d{{4}})?"),
    re.compile(rf"\b(?:{_WELSH_MONTHS})\s+\d{{4}}\b"),
    re.compile(rf"\b{_WELSH_DAYS}\b"),
    re.compile(rf"\b[Mm]is\s+(?:{_WELSH_MONTHS})\b"),
]
AGES = [
    re.compile(r"\baged?\s+\d{1,3}\b", re.IGNORECASE),
    re.compile(r"\b\d{1,3}[\s-]*(?:years?|yrs?)[\s-]*old\b", re.IGNORECASE),
    re.compile(r"\bI(?:'m|’m| am)\s+\d{2}\b"),
    re.compile(
        r"\b(?:(?:early|mid|late)[\s-]+)?(?:twenties|thirties|forties|fifties|sixties|[2-6]0s)\b", re.IGNORECASE
    ),
]
TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sir|Dame)\.?\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?")
CAPITALISED = re.compile(rf"\b[{_UPPER}][{_LOWER}'’-]+(?:\s+[{_UPPER}][{_LOWER}'’-]+)*")

# Towns and cities where probation offices are; region and unit names are added at run time.
PLACES = frozenset(
    """
Barnsley Barnstaple Bath Bedford Birmingham Blackburn Blackpool Bolton Bournemouth Bradford Brighton
Bristol Burnley Cambridge Canterbury Cardiff Carlisle Chelmsford Chester Chesterfield Colchester
Coventry Crawley Croydon Darlington Derby Doncaster Dover Dudley Durham Exeter Gateshead Gloucester
Grimsby Guildford Halifax Harlow Hartlepool Hastings Hereford Huddersfield Hull Ipswich Kendal
Lancaster Leeds Leicester Lewisham Lincoln Liverpool London Luton Maidstone Manchester Margate
Middlesbrough Milton Keynes Newcastle Newport Northampton Norwich Nottingham Oldham Oxford
Peterborough Plymouth Portsmouth Preston Reading Rochdale Rotherham Salford Scarborough Sheffield
Shrewsbury Slough Southampton Southend Stafford Stockport Stockton Stoke Sunderland Swansea Swindon
Taunton Telford Truro Wakefield Walsall Warrington Watford Wigan Winchester Wolverhampton Worcester
Wrexham York Bangor Aberystwyth Carmarthen Llanelli Merthyr Pontypridd Rhyl Caernarfon
Caerdydd Abertawe Casnewydd Wrecsam Caerfyrddin Cymru Aberhonddu Hwlffordd Bae Colwyn Dinbych
Derbyshire Yorkshire Lancashire Cumbria Kent Surrey Sussex Essex Norfolk Suffolk Devon Cornwall
Somerset Dorset Hampshire Wiltshire Gloucestershire Staffordshire Warwickshire Shropshire
Leicestershire Lincolnshire Nottinghamshire Northumberland Tyneside Teesside Merseyside Avon Wales
""".split()
) | {"Milton Keynes", "Stoke-on-Trent", "Tower Hamlets", "West Midlands", "East Midlands"}

# Common first names, caught even at the start of a sentence.
FIRST_NAMES = frozenset(
    """
Aisha Alan Alex Alice Amy Andrew Angela Ann Anne Ben Carol Chris Claire Daniel David Debbie Emma
Fatima Gareth Gary Hannah Helen Ian James Jane Jason Jennifer John Julie Karen Kate Kelly Kevin
Laura Lisa Mark Martin Mary Matthew Michael Mohammed Muhammad Nicola Paul Peter Priya Rachel Rhys
Richard Robert Sam Sarah Sean Sharon Simon Sophie Stephen Steve Susan Tom Tracey Tracy
Aled Bethan Catrin Cerys Dafydd Dewi Eleri Elin Geraint Gethin Gwen Huw Ieuan Iwan Llinos Meinir
Nia Owain Rhiannon Siân Sioned Llŷr
""".split()
)

# Capitalised words that are the service's vocabulary, not people or places.
NOT_NAMES = frozenset(
    """
I Napo Probation Service Services Officer Officers Delivery Unit Units Senior Ministry Justice Government
Minister Secretary State Court Courts Crown Magistrates Family Prison Prisons Inspectorate Serious Further
Offence Offences Workload Management Tool Community Rehabilitation Company Companies National Approved
Premises Union English Welsh British Christmas Easter Covid Teams Outlook Microsoft Mum Dad Parliament
Home Office Head Deputy Director Manager Team Region Regional Board Health Safety Executive Tribunal
The A An And But So If When We They He She It My Our Their This That These Those There Then After Before
Every Each Some Many Most No Not Nothing Nobody One Two Three Four Five Six Seven Eight Nine Ten Please
Thank Thanks Yes Also Still Even Just Only Now Today Yesterday Tomorrow Last Next New Old What Why How
Who Where Since Until While Because Although Being Having Despite Without With From For To In On At Of
Unpaid Work Accredited Programmes Interventions Risk Harm High Medium Low Very Public Protection
North South East West Central Greater Midlands Staff Trainee Trainees Caseload Caseloads Management
Mae Roedd Rydw Rydym Rwy Dw Dydw Nid Does Dywedodd Meddai Gofynnodd Bydd Byddaf Cefais Ges Yr Y Ac Ond Os
Pan Fy Ein Eu Ni Hefyd Heddiw Ddoe Wedyn Felly Diolch Swyddog Swyddfa Gwasanaeth Prawf Undeb Cymraeg Saesneg
""".split()
)

_SENTENCE_END = re.compile(r"(?:^|[.!?:;\n\"“(]\s*|\n\s*[-*•]\s*)$")
# A lone capitalised word is taken for a name only where people are named: after a role or a
# word that introduces someone ("my SPO, Dan", "a colleague called Kwame"), or before a verb of
# speech ("Kwame said"). Elsewhere it is an ordinary word written with a capital ("new
# qualified Staff", "the Trainees"), and marking it would spoil the suggested public text.
_NAME_CUE_BEFORE = re.compile(
    r"\b(?:SPO|PO|PSO|manager|colleague|tutor|supervisor|mentor|boss|officer|director|head|deputy|rep|"
    r"called|named|name is|told|asked|emailed|thanked|met|with|from|"
    r"rheolwr|rheolwraig|cydweithiwr|cydweithwraig|o'r enw|dywedodd|meddai|gofynnodd|gyda|wrth)[,:]?\s+$",
    re.IGNORECASE,
)
_NAME_CUE_AFTER = re.compile(r"^(?:['’]s)?,?\s+(?:said|says|told|tells|asked|asks|emailed|rang|phoned|wrote)\b")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def _regex_spans(patterns: Iterable[re.Pattern[str]], text: str, kind: str) -> list[Span]:
    return [Span(m.start(), m.end(), kind) for pattern in patterns for m in pattern.finditer(text)]


def _place_spans(text: str, places: Iterable[str]) -> list[Span]:
    names = sorted({p.strip() for p in places if p and p.strip()}, key=len, reverse=True)
    if not names:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
    return [Span(m.start(), m.end(), "place") for m in pattern.finditer(text)]


def _name_spans(text: str) -> list[Span]:
    spans = [Span(m.start(), m.end(), "name") for m in TITLED_NAME.finditer(text)]
    for match in CAPITALISED.finditer(text):
        words = match.group().split()
        # Drop vocabulary words from the front of a run ("Yesterday Sarah Jones" → "Sarah Jones").
        offset = match.start()
        while words and words[0] in NOT_NAMES:
            offset = text.index(words[0], offset) + len(words[0])
            words.pop(0)
        if not words:
            continue
        start = text.index(words[0], offset)
        at_sentence_start = bool(_SENTENCE_END.search(text[:start]))
        ordinary = all(w in NOT_NAMES for w in words)
        if len(words) == 1 and words[0] not in FIRST_NAMES and not ordinary:
            # One capitalised word: a name only where the sentence introduces a person.
            ordinary = not (
                _NAME_CUE_BEFORE.search(text[max(0, start - 40) : start])
                or _NAME_CUE_AFTER.match(text[match.end() : match.end() + 30])
            )
        if words[0] in FIRST_NAMES or (not at_sentence_start and not ordinary):
            spans.append(Span(start, match.end(), "name"))
    return spans


def find_identifiers(text: str, extra_places: Iterable[str] = ()) -> list[Span]:
    """Spans of likely identifiers, without overlaps, in the order they appear.

    Detectors run from the most certain (email addresses) to the least (capitalised
    words); a later detector never claims text an earlier one already marked.
    """
    candidates = [
        *_regex_spans([EMAIL], text, "email"),
        *_regex_spans([PHONE], text, "phone"),
        *_regex_spans(DATES, text, "date"),
        *_regex_spans(AGES, text, "age"),
        *_place_spans(text, [*PLACES, *extra_places]),
        *_name_spans(text),
    ]
    priority = {kind: rank for rank, kind in enumerate(KIND_LABELS)}
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (priority[s.kind], s.start, -(s.end - s.start))):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def segments(text: str, extra_places: Iterable[str] = ()) -> list[tuple[str, str | None]]:
    """The text cut into (piece, kind) pairs; kind is None for ordinary text."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for span in find_identifiers(text, extra_places):
        if span.start > position:
            pieces.append((text[position : span.start], None))
        pieces.append((text[span.start : span.end], span.kind))
        position = span.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces


def suggest_redaction(text: str, extra_places: Iterable[str] = ()) -> str:
    """The text with every likely identifier replaced by its kind in brackets: a starting
    point for the official's public text, never a substitute for reading it."""
    return "".join(f"[{KIND_LABELS[kind]}]" if kind else piece for piece, kind in segments(text, extra_places))


def has_contact_details(text: str) -> bool:
    """True when the text still holds an email address or a phone number."""
    return bool(EMAIL.search(text) or PHONE.search(text))

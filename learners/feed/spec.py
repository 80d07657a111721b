"""What each file of a delivery holds, how its rows are checked and where they are written.

Files are taken in dependency order, so a delivery can bring a centre and its learners, or
a qualification and its units, together. `Known` holds the keys that rows refer to: the
catalogue and centres already stored plus those accepted earlier in this delivery.
"""

import hashlib
import importlib.util
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from accounts.feed import KnownPeople, centre_files, unknown_centre
from base import cells as v
from base.delivery import Column, Computed, FileSpec, Merge, RowError, RowRule, require, table
from base.identifiers import is_valid_qan, is_valid_uln
from base.text import search_key
from learners import diploma, models


@dataclass
class Known(KnownPeople):
    """KnownPeople (centres and accounts) and the catalogue."""

    series: set[str] = field(default_factory=set)
    qualifications: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # code: (component, kind)
    qans: dict[str, str] = field(default_factory=dict)  # QAN: qualification code
    units: dict[str, str] = field(default_factory=dict)  # code: qualification code

    @classmethod
    def from_database(cls) -> "Known":
        return cls(
            **KnownPeople.stored(),
            series=set(models.Series.objects.values_list("code", flat=True)),
            qualifications={
                code: (component, kind)
                for code, component, kind in models.Qualification.objects.values_list(
                    "code", "component", "kind"
                )
            },
            qans=dict(models.Qualification.objects.exclude(qan=None).values_list("qan", "code")),
            units=dict(models.Unit.objects.values_list("code", "qualification_id")),
        )

    def fingerprint(self) -> str:
        """What could make a line accepted before read otherwise now, as a digest: each
        line's digest includes it (learners.feed.byvalue), so a line delivered again after
        it changed is checked again.

        It holds what the learner files' rules look up (a unit's qualification, a
        qualification's component and kind), the code that checks them, the zone the feed's
        times are read in and the Unicode tables names are compared by. Not the centres and
        series themselves: one added turns no accepted line bad, and one a row refers to
        cannot be deleted (PROTECT), so an accepted line's centre and series are still there."""
        digest = hashlib.sha256(_CHECKING_CODE)
        digest.update(f"{settings.TIME_ZONE} {unicodedata.unidata_version}".encode())
        for known in (sorted(self.qualifications.items()), sorted(self.units.items())):
            digest.update(repr(known).encode())
        return digest.hexdigest()[:32]


# The modules whose code decides whether a line of a learner file passes and what it writes:
# any change to them (a new check, a value worked out differently) and every line is
# checked again.
_CHECKING_MODULES = (
    "accounts.feed",
    "base.cells",
    "base.delivery",
    "base.identifiers",
    "base.text",
    "learners.csvfiles",
    "learners.diploma",
    "learners.feed.bulk",
    "learners.feed.byvalue",
    "learners.feed.importer",
    "learners.feed.spec",
    "learners.models.catalogue",
    "learners.models.records",
)
_CHECKING_CODE = b"".join(
    Path(importlib.util.find_spec(name).origin).read_bytes() for name in _CHECKING_MODULES
)


# --- the catalogue -------------------------------------------------------------------------


def _learn_series(row, known):
    if "code" in row:
        known.series.add(row["code"])


def _learn_qualification(row, known):
    if "code" in row:
        known.qualifications[row["code"]] = (row.get("component", ""), row.get("kind", ""))


def _learn_unit(row, known):
    if "code" in row:
        known.units[row["code"]] = row.get("qualification", "")


def _stage_series(row, known):
    _learn_series(row, known)
    claims_due_on = row.get("claims_due_on") or None
    if claims_due_on is not None and claims_due_on < v.date(f"{row['code']}-01"):
        raise RowError([("claims_due_on", "before the series begins")])
    return {"claims_due_on": claims_due_on}


def _stage_qualification(row, known):
    problems = []
    code, qan, line = row["code"], row["qan"], row["line"]
    if code in known.units:
        problems.append(("code", "already used by a unit"))
    if qan and not is_valid_qan(qan):
        problems.append(("qan", "not a QAN (NNN/NNNN/C)"))
    elif qan and known.qans.get(qan, code) != code:
        problems.append(("qan", f"already used by qualification {known.qans[qan]}"))
    if row["component"] == diploma.PL:
        if not line:
            problems.append(("line", "required for principal learning"))
        elif line not in diploma.LINES_OF_LEARNING:
            problems.append(("line", "unknown line of learning"))
    elif line:
        problems.append(("line", "only principal learning belongs to a line"))
    require(problems)
    _learn_qualification(row, known)
    if qan:
        known.qans[qan] = code
    return {"qan": qan or None, "level": int(row["level"]), "line_id": line or None}


def _stage_unit(row, known):
    problems = []
    if row["code"] in known.qualifications:
        problems.append(("code", "already used by a qualification"))
    if row["qualification"] not in known.qualifications:
        problems.append(("qualification", "unknown qualification"))
    require(problems)
    _learn_unit(row, known)
    return {}


def _opens_before_it_closes(row, known):
    if row["closes_on"] < row["opens_on"]:
        raise RowError([("closes_on", "before opens_on")])
    return {}


def _unknown_series(row, known) -> list[tuple[str, str]]:
    return [] if row["series"] in known.series else [("series", "unknown series")]


def _unknown_unit(row, known, column) -> list[tuple[str, str]]:
    return [] if row[column] in known.units else [(column, "unknown unit")]


def _known_centre(row, known):
    require(unknown_centre(row, known))
    return {}


def _award_series(row, known):
    return {
        "award_series": row["award_series"] or diploma.default_award_series(row["registered_on"])
    }


def _search_keys(*columns: str) -> tuple[RowRule, ...]:
    return tuple(
        RowRule(
            (column,),
            lambda row, known, column=column: {f"{column}_key": search_key(row[column])},
            gives=(f"{column}_key",),
        )
        for column in columns
    )


# --- what centres entered and what came back -----------------------------------------------


def _known_series(row, known):
    require(_unknown_series(row, known))
    return {}


def _known_unit(column: str) -> RowRule:
    def check(row, known):
        require(_unknown_unit(row, known, column))
        return {}

    return RowRule((column,), check)


def _entered_qualification(row, known):
    code = row["code"]
    if row["type"] == models.Entry.Kind.UNIT:
        qualification = known.units.get(code)
        if qualification is None:
            raise RowError([("code", "unknown unit")])
        return {"qualification_id": qualification, "unit_id": code}
    if code not in known.qualifications:
        raise RowError([("code", "unknown qualification")])
    return {"qualification_id": code, "unit_id": None}


def _link_uln(row, known):
    uln = row["uln"]
    return {"link_uln": uln if is_valid_uln(uln) else None}


def _resulted_code(row, known):
    code = row["code"]
    if code in known.units:
        return {"qualification_id": known.units[code], "unit_id": code}
    if code in known.qualifications:
        return {"qualification_id": code, "unit_id": None}
    raise RowError([("code", "unknown unit or qualification")])


def _vocational_qualification(row, known):
    found = known.qualifications.get(row["qualification"])
    if found is None:
        raise RowError([("qualification", "unknown qualification")])
    if found[1] != models.Qualification.Kind.VQ:
        raise RowError([("qualification", "not a vocational qualification")])
    return {}


KNOWN_CENTRE = RowRule(("centre",), _known_centre)
KNOWN_SERIES = RowRule(("series",), _known_series)


YES_NO = v.yes_no
NAME = v.text(100)
TITLE = v.text(200)
LEVEL_CODES = tuple(diploma.LEVELS)
LINE_CODES = tuple(diploma.LINES_OF_LEARNING)
DIPLOMA_GRADES = tuple(g for g in diploma.LETTER_GRADES if g != "U")


def _optional(parser: v.Parser) -> v.Parser:
    return lambda value: parser(value) if value else ""


def build_specs() -> tuple[FileSpec, ...]:
    """Every file of DOMAIN.md section 5, in the order a delivery is imported."""
    feed_time = v.date_time(settings.TIME_ZONE)
    entry = table(models.Entry)
    return (
        FileSpec(
            name="series.csv",
            learn=_learn_series,
            columns=(
                Column("code", v.series_code, key=True),
                Column("name", v.text(50)),
                Column("results_published_on", v.optional_date, "date"),
                Column("claims_due_on", v.optional_date, "date", optional=True),
            ),
            key_words="code",
            stage=_stage_series,
            merges=(
                Merge(
                    table(models.Series),
                    # A delivery without the optional column keeps the deadline already given.
                    update={"claims_due_on": "COALESCE({new}.claims_due_on, {old}.claims_due_on)"},
                ),
            ),
        ),
        FileSpec(
            name="qualifications.csv",
            learn=_learn_qualification,
            columns=(
                Column("code", v.code, key=True),
                Column("qan", v.text(10, required=False)),
                Column("title", TITLE),
                Column("component", v.choice(diploma.QUALIFICATION_COMPONENTS, "component")),
                Column("kind", v.choice(("GQ", "VQ"), "kind")),
                Column("level", v.choice(("1", "2", "3"), "level"), "int"),
                Column("line", v.text(3, required=False), stage_as="line_id"),
                Column("glh", v.whole_number, "int"),
            ),
            key_words="code",
            stage=_stage_qualification,
            merges=(Merge(table(models.Qualification)),),
        ),
        FileSpec(
            name="units.csv",
            learn=_learn_unit,
            columns=(
                Column("code", v.code, key=True),
                Column("qualification", v.code, stage_as="qualification_id"),
                Column("title", TITLE),
                Column("glh", v.whole_number, "int"),
                Column("centre_marked", YES_NO, "bool"),
                Column("mandatory", YES_NO, "bool"),
            ),
            key_words="code",
            stage=_stage_unit,
            merges=(Merge(table(models.Unit)),),
        ),
        FileSpec(
            name="mark_windows.csv",
            columns=(
                Column("series", v.series_code, stage_as="series_id", key=True),
                Column("unit", v.code, stage_as="unit_id", key=True),
                Column("opens_on", v.date, "date"),
                Column("closes_on", v.date, "date"),
            ),
            key_words="series and unit",
            rules=(
                KNOWN_SERIES,
                _known_unit("unit"),
                RowRule(("opens_on", "closes_on"), _opens_before_it_closes),
            ),
            merges=(Merge(table(models.MarkWindow)),),
        ),
        FileSpec(
            name="grade_thresholds.csv",
            columns=(
                Column("level", v.choice(LEVEL_CODES, "level"), key=True),
                Column("grade", v.choice(DIPLOMA_GRADES, "Diploma grade"), key=True),
                Column("min_points", v.whole_number, "int"),
            ),
            key_words="level and grade",
            merges=(Merge(table(models.GradeThreshold)),),
        ),
        *centre_files(),
        FileSpec(
            name="learners.csv",
            columns=(
                Column("uln", v.uln, key=True),
                Column("forename", NAME),
                Column("surname", NAME),
                Column("date_of_birth", v.date, "date"),
                Column("centre", v.centre_number, stage_as="centre_id"),
                Column("line", v.choice(LINE_CODES, "line of learning"), stage_as="line_id"),
                Column("level", v.choice(LEVEL_CODES, "level")),
                Column("registered_on", v.date, "date"),
                Column("award_series", v.optional_series_code, optional=True),
            ),
            computed=(Computed("forename_key"), Computed("surname_key")),
            key_words="ULN",
            rules=(
                KNOWN_CENTRE,
                RowRule(("award_series", "registered_on"), _award_series, ("award_series",)),
                *_search_keys("forename", "surname"),
            ),
            merges=(
                Merge(
                    table(models.Learner),
                    select={"award_series_edited": "false"},
                    # An award date a centre administrator chose outlives later deliveries.
                    update={
                        "award_series": (
                            "CASE WHEN {old}.award_series_edited THEN {old}.award_series "
                            "ELSE {new}.award_series END"
                        )
                    },
                    insert_only=frozenset({"award_series_edited"}),
                    records_learners=True,
                    remembers_lines=True,
                ),
            ),
            # Entries delivered before their learner was registered link up now.
            after=(
                f"UPDATE {entry} SET learner_id = uln "
                "WHERE learner_id IS NULL "
                "AND uln IN (SELECT uln FROM {stage})",
            ),
        ),
        FileSpec(
            name="entries.csv",
            columns=(
                Column("centre", v.centre_number, stage_as="centre_id", key=True),
                Column("candidate_number", v.candidate_number, key=True),
                Column("uln", v.as_submitted(32)),
                Column("forename", v.as_submitted(100)),
                Column("surname", v.as_submitted(100)),
                Column("series", v.series_code, stage_as="series_id", key=True),
                Column("code", v.code, key=True),
                Column("type", v.choice(("UNIT", "CASHIN"), "type"), stage_as="kind", key=True),
                Column("received_at", feed_time, "datetime"),
            ),
            computed=(Computed("qualification_id"), Computed("unit_id"), Computed("link_uln")),
            key_words="centre, candidate_number, series, type and code",
            rules=(
                KNOWN_CENTRE,
                KNOWN_SERIES,
                RowRule(("code", "type"), _entered_qualification, ("qualification_id", "unit_id")),
                RowRule(("uln",), _link_uln, ("link_uln",)),
            ),
            merges=(
                Merge(
                    entry,
                    leave_out=("link_uln",),
                    # Linked only when the ULN passes the check digit and is a known learner.
                    select={"learner_id": "l.uln"},
                    joins=f"LEFT JOIN {table(models.Learner)} l ON l.uln = s.link_uln",
                    records_components=True,
                    # An entry delivered before its learner, unchanged, is left as it is: the
                    # learners file linked it when the learner came (`after` above).
                    remembers_lines=True,
                ),
            ),
        ),
        FileSpec(
            name="marks.csv",
            columns=(
                Column("uln", v.uln, key=True),
                Column("series", v.series_code, stage_as="series_id", key=True),
                Column("unit", v.code, stage_as="unit_id", key=True),
                Column("submitted_on", v.date, "date"),
            ),
            key_words="ULN, series and unit",
            rules=(KNOWN_SERIES, _known_unit("unit")),
            merges=(
                Merge(table(models.MarkSubmission), records_learners=True, remembers_lines=True),
            ),
        ),
        FileSpec(
            name="results.csv",
            columns=(
                Column("uln", v.uln, key=True),
                Column("series", v.series_code, stage_as="series_id", key=True),
                Column("code", v.code, key=True),
                Column("grade", v.choice(diploma.RESULT_GRADES, "grade")),
                Column("points", v.optional_whole_number, "int"),
                Column("published_on", v.date, "date"),
            ),
            computed=(Computed("qualification_id"), Computed("unit_id")),
            key_words="ULN, series and code",
            rules=(
                KNOWN_SERIES,
                RowRule(("code",), _resulted_code, ("qualification_id", "unit_id")),
            ),
            merges=(Merge(table(models.Result), records_learners=True, remembers_lines=True),),
        ),
        FileSpec(
            name="vq_status.csv",
            columns=(
                Column("uln", v.uln, key=True),
                Column("qualification", v.code, stage_as="qualification_id", key=True),
                Column("verified", YES_NO, "bool"),
                Column("claimed_on", v.optional_date, "date"),
                Column("result_issued_on", v.optional_date, "date"),
            ),
            key_words="ULN and qualification",
            rules=(RowRule(("qualification",), _vocational_qualification),),
            merges=(Merge(table(models.VQStatus), records_learners=True, remembers_lines=True),),
        ),
        FileSpec(
            name="das.csv",
            columns=(
                Column("uln", v.uln, key=True),
                Column("component", v.choice(diploma.COMPONENTS, "component"), key=True),
                Column("complete", YES_NO, "bool"),
                Column("asl_glh_completed", v.optional_whole_number, "int"),
                Column(
                    "diploma_grade",
                    _optional(v.choice(DIPLOMA_GRADES + ("U",), "Diploma grade")),
                ),
            ),
            key_words="ULN and component",
            merges=(Merge(table(models.DASStatus), records_learners=True, remembers_lines=True),),
        ),
    )

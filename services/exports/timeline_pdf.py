"""The photo timeline as a PDF (fpdf2, A4 portrait), to print or hand to a doctor.

1. A cover: the patient, the regimen, the dates, sessions done of planned,
   adherence, concurrent therapies, and progress against the baseline.
2. One grid per scalp area: its photos in date order, each with its date and
   the session it follows. The previews go in scaled to their cell at 300 dpi
   (sharp in print, and a course of 100 photos stays a file to e-mail).
3. Charts of hair count and daily shedding over time, when measured.
4. A table of the sessions: date, needle length, cocktail, pain, side effects.

Text is set in the TrueType font of `PdfFonts` when it is installed (any
script), else in the PDF core font Helvetica (Latin-1; other characters print
as "?").
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from domain.outcomes import HAIR_COUNT, SHEDDING
from services.courses import regimen_of
from services.exports.course_data import CourseExport, PhotoEntry
from storage.blobs import BlobStore

MARGIN = 15
COLUMNS = 3
GAP = 5
CAPTION_HEIGHT = 6
CHART_HEIGHT = 70
PRINT_DPI = 300
PHOTO_QUALITY = 85
MM_PER_INCH = 25.4
# One colour per series (scalp area) in the charts, in turn.
SERIES_COLOURS = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189),
                  (255, 127, 14), (140, 86, 75), (23, 190, 207))
CHARTS = ((HAIR_COUNT, "Hair count per cm\u00b2"), (SHEDDING, "Daily shedding (hairs)"))
FAMILY = "body"
CORE_FAMILY = "helvetica"


@dataclass(frozen=True)
class PdfFonts:
    """TrueType files for body text and headings; used when both exist."""

    regular: str
    bold: str

    def available(self) -> bool:
        return Path(self.regular).is_file() and Path(self.bold).is_file()


class _TimelinePdf(FPDF):
    def __init__(self, export: CourseExport, fonts: PdfFonts | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.export = export
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=MARGIN + 5)
        self.set_title(f"Microneedling course {export.course.id}: photo timeline")
        self.set_creator("Scalpcourse")
        self.set_creation_date(export.exported_at)
        if fonts is not None and fonts.available():
            self.add_font(FAMILY, "", fonts.regular)
            self.add_font(FAMILY, "B", fonts.bold)
            self.body_family = FAMILY
        else:
            self.body_family = CORE_FAMILY
        self.alias_nb_pages()

    def text_of(self, value: str) -> str:
        if self.body_family == CORE_FAMILY:
            return value.encode("latin-1", "replace").decode("latin-1")
        return value

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.body_family, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-MARGIN)
        self.style(8)
        self.set_text_color(110)
        self.cell(0, 5, self.text_of(
            f"{self.export.patient.display_name} \u00b7 course {self.export.course.id} \u00b7 "
            f"exported {self.export.exported_at.date().isoformat()} \u00b7 "
            f"page {self.page_no()} of {{nb}}"), align="C")
        self.set_text_color(0)

    def heading(self, text: str, size: float = 16) -> None:
        self.style(size, bold=True)
        self.cell(0, size * 0.6, self.text_of(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def line_of(self, label: str, value: str) -> None:
        self.style(11, bold=True)
        self.cell(55, 7, self.text_of(label))
        self.style(11)
        self.multi_cell(0, 7, self.text_of(value), align="L", new_x=XPos.LMARGIN,
                        new_y=YPos.NEXT)


def timeline_pdf(export: CourseExport, store: BlobStore, fonts: PdfFonts | None = None) -> bytes:
    pdf = _TimelinePdf(export, fonts)
    _cover(pdf, export)
    for area in export.areas:
        _photo_grid(pdf, export, area, store)
    if any(observation.kind in dict(CHARTS) and observation.withdrawn_at is None
           for observation in export.observations):
        _charts(pdf, export)
    if export.sessions:
        _session_table(pdf, export)
    return bytes(pdf.output())


def _cover(pdf: _TimelinePdf, export: CourseExport) -> None:
    course, status = export.course, export.status
    pdf.add_page()
    pdf.heading("Microneedling course: photo timeline", size=20)
    pdf.style(13)
    pdf.cell(0, 8, pdf.text_of(export.patient.display_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    done = [record.row.performed_at.astimezone(export.zone).date() for record in export.sessions]
    adherence = status.adherence
    on_time = ("no session yet" if adherence.percent_on_time is None else
               f"{adherence.percent_on_time} % on time ({adherence.on_time} on time, "
               f"{adherence.late} late, {adherence.early} early)")
    upcoming = status.next_session
    lines = [
        ("Regimen", regimen_of(course).summary()),
        ("Status", course.status.replace("_", " ")),
        ("Started", course.start_date.isoformat()),
        ("Sessions", f"{status.sessions_done} done of {status.sessions_planned} planned"),
        ("First / latest session", f"{done[0].isoformat()} / {done[-1].isoformat()}"
         if done else "none yet"),
        ("Next session", f"no. {upcoming.number}, due {upcoming.due.isoformat()} "
         f"(on time {upcoming.earliest.isoformat()} to {upcoming.latest.isoformat()})"
         if upcoming else "none"),
        ("Adherence", on_time),
        ("Concurrent therapies", ", ".join(course.concurrent_therapies) or "none"),
        ("Photos", f"{len(export.photos)} in {len(export.areas)} areas"
         if export.photos else "none yet"),
        ("Exported", export.exported_at.strftime("%Y-%m-%d %H:%M %Z")),
    ]
    for label, value in lines:
        pdf.line_of(label, value)
    if status.progress:
        pdf.ln(6)
        pdf.heading("Progress against the baseline", size=13)
        pdf.style(10)
        with pdf.table(col_widths=(40, 45, 30, 30, 35), text_align="LEFT") as table:
            table.row(["Area", "Measure", "Baseline", "Latest", "Change"])
            for item in status.progress:
                change = "-" if item.change_percent is None else f"{item.change_percent:+.1f} %"
                table.row([pdf.text_of(_words(item.area or "whole head")), _words(item.kind),
                           f"{item.baseline:g}", f"{item.latest:g}", change])


def _photo_grid(pdf: _TimelinePdf, export: CourseExport, area: str, store: BlobStore) -> None:
    photos = export.photos_of(area)
    pdf.add_page()
    pdf.heading(f"{_words(area).capitalize()}: {len(photos)} photo{'s' * (len(photos) != 1)}")
    width = (pdf.epw - GAP * (COLUMNS - 1)) / COLUMNS
    height = width * 3 / 4
    for start in range(0, len(photos), COLUMNS):
        if pdf.will_page_break(height + CAPTION_HEIGHT + GAP):
            pdf.add_page()
            pdf.heading(f"{_words(area).capitalize()} (continued)")
        top = pdf.get_y()
        for column, photo in enumerate(photos[start:start + COLUMNS]):
            left = pdf.l_margin + column * (width + GAP)
            _photo(pdf, photo, store, left, top, width, height)
        pdf.set_y(top + height + CAPTION_HEIGHT + GAP)


def _photo(pdf: _TimelinePdf, photo: PhotoEntry, store: BlobStore, left: float, top: float,
           width: float, height: float) -> None:
    fit = (round(width / MM_PER_INCH * PRINT_DPI), round(height / MM_PER_INCH * PRINT_DPI))
    printed = io.BytesIO()
    photo.preview(store, fit).save(printed, "JPEG", quality=PHOTO_QUALITY)
    pdf.image(printed, x=left, y=top, w=width, h=height, keep_aspect_ratio=True)
    pdf.set_xy(left, top + height)
    pdf.style(9)
    pdf.cell(width, CAPTION_HEIGHT, photo.caption, align="C")


def _charts(pdf: _TimelinePdf, export: CourseExport) -> None:
    pdf.add_page()
    pdf.heading("Measurements over time")
    for kind, title in CHARTS:
        series: dict[str, list[tuple[datetime, float]]] = {}
        for observation in export.observations:
            if (observation.kind == kind and observation.number is not None
                    and observation.withdrawn_at is None):
                series.setdefault(observation.area or "whole head", []).append(
                    (observation.observed_at, observation.number))
        if series:
            if pdf.will_page_break(CHART_HEIGHT + 30):
                pdf.add_page()
            _chart(pdf, title, series)


def _chart(pdf: _TimelinePdf, title: str, series: dict[str, list[tuple[datetime, float]]]) -> None:
    """A line per series against time, with its axes labelled at the extremes."""
    pdf.style(12, bold=True)
    pdf.cell(0, 8, pdf.text_of(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    points = [point for values in series.values() for point in values]
    first, last = min(moment for moment, _ in points), max(moment for moment, _ in points)
    low = min(0.0, min(value for _, value in points))
    high = max(value for _, value in points) or 1.0
    span = (last - first).total_seconds() or 1.0
    left, top = pdf.l_margin + 15, pdf.get_y() + 2
    width, height = pdf.epw - 20, CHART_HEIGHT - 20
    pdf.set_draw_color(0)
    pdf.set_line_width(0.3)
    pdf.line(left, top, left, top + height)
    pdf.line(left, top + height, left + width, top + height)
    pdf.style(8)
    for value in (low, high):
        y = top + height - (value - low) / (high - low) * height
        pdf.set_xy(pdf.l_margin, y - 2)
        pdf.cell(14, 4, f"{value:g}", align="R")
    for moment, align in ((first, "L"), (last, "R")):
        pdf.set_xy(left if align == "L" else left + width - 30, top + height + 1)
        pdf.cell(30, 4, moment.date().isoformat(), align=align)
    for index, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.6)
        coordinates = [(left + (moment - first).total_seconds() / span * width,
                        top + height - (value - low) / (high - low) * height)
                       for moment, value in sorted(values)]
        if len(coordinates) > 1:
            pdf.polyline(coordinates)
        for x, y in coordinates:
            pdf.circle(x=x, y=y, radius=0.9, style="F")
        pdf.set_xy(left + 4 + index * 40, top + height + 6)
        pdf.set_text_color(*colour)
        pdf.cell(38, 4, pdf.text_of(_words(name)))
        pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    pdf.set_line_width(0.2)
    pdf.set_y(top + CHART_HEIGHT)


def _session_table(pdf: _TimelinePdf, export: CourseExport) -> None:
    pdf.add_page()
    pdf.heading("Sessions")
    pdf.style(9)
    with pdf.table(col_widths=(7, 21, 18, 17, 32, 10, 29, 28, 18), text_align="LEFT",
                   repeat_headings=1) as table:
        table.row(["#", "Date", "Phase", "Needle", "Cocktail", "Pain", "Side effects",
                   "Check-in", "Timing"])
        for record in export.sessions:
            row = record.row
            cocktail = row.cocktail or {}
            ingredients = ", ".join(cocktail.get("ingredients") or [])
            table.row([
                str(record.number),
                row.performed_at.astimezone(export.zone).date().isoformat(),
                record.phase,
                f"{row.needle_length_mm:g} mm",
                pdf.text_of(" - ".join(filter(None, (cocktail.get("name"), ingredients)))),
                "-" if row.pain_score is None else f"{row.pain_score}/10",
                _words(", ".join(row.side_effects)) or "none",
                pdf.text_of(_check_in_words(record)),
                _words(record.timing),
            ])


def _check_in_words(record) -> str:
    """The 24 h check-in in words, and whether a flag of the session is still open."""
    entry = record.check_in
    if entry is None:
        answer = "none"
    else:
        persisting = [name for name, present in (
            ("redness", entry.redness_persists), ("swelling", entry.swelling_persists),
            ("infection signs", entry.infection_signs)) if present]
        answer = ", ".join(persisting) if persisting else "all clear"
    if any(flag.is_open for flag in record.flags):
        answer += "; flag open"
    return answer


def _words(code: str) -> str:
    return code.replace("_", " ")

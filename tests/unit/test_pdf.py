"""The PDF renderer: what goes in can be read back out."""

from io import BytesIO

from pypdf import PdfReader

from documents.pdf import latin1, render_pdf


def test_a_report_reads_back_with_its_title_header_and_rows() -> None:
    data = render_pdf("Relatório de exclusão", [("Cidade", "São José"), ("Período", "2026-11-01 a 2026-11-30")],
                      ["Câmera", "Trechos"], [[f"cam-{i}", str(i)] for i in range(60)])
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    assert data.startswith(b"%PDF-")
    assert "Relatório de exclusão" in text and "São José" in text
    assert "cam-0" in text and "cam-59" in text  # a table longer than a page goes on to the next


def test_text_outside_latin1_is_replaced_not_fatal() -> None:
    assert latin1("placa ABC→1234 ✓") == "placa ABC?1234 ?"
    assert render_pdf("Σ", [], [], []).startswith(b"%PDF-")

"""Dataset cards and generated docs pages: 23 valid cards, and `--check` catching stale cards and pages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard

from rumteb import cards
from rumteb.cli import build_parser
from rumteb.tasks import TASKS

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "datasets_cards"
DOCS = REPO / "docs" / "src"
CARD_FILES = sorted(CARDS.glob("*__*.md"))


def _run(argv: list[str]) -> int:
    """``rumteb <argv>`` through rumteb's parser."""
    from rumteb.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_the_25_task_classes_read_23_hub_datasets() -> None:
    grouped = cards.dataset_tasks()
    assert len(TASKS) == 25
    assert len(grouped) == 23
    shared = {repo: [t.metadata.name for t in tasks] for repo, tasks in grouped.items() if len(tasks) > 1}
    assert shared == {
        "ai-forever/ru-scibench-grnti-classification": [
            "RuSciBenchGRNTIClassification",
            "RuSciBenchGRNTIClusteringP2P",
        ],
        "ai-forever/ru-scibench-oecd-classification": [
            "RuSciBenchOECDClassification",
            "RuSciBenchOECDClusteringP2P",
        ],
    }


def test_one_card_and_one_source_per_dataset() -> None:
    expected = sorted(cards.card_filename(repo) for repo in cards.dataset_tasks())
    assert [p.name for p in CARD_FILES] == expected
    assert sorted(p.name for p in (CARDS / cards.SOURCES).glob("*__*.md")) == expected


@pytest.mark.parametrize("path", CARD_FILES, ids=[p.stem for p in CARD_FILES])
def test_card_parses_as_a_hub_dataset_card(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    data = DatasetCard(text).data.to_dict()
    for key in cards.REQUIRED_YAML_KEYS:
        assert key in data, key
    assert data["license"] in cards.HUB_LICENSES
    assert data["language"] == ["ru"]
    assert set(data["task_ids"]) <= cards.HUB_TASK_IDS
    assert data["pretty_name"] and data["source_datasets"] and data["configs"]
    assert all(set(config) == {"config_name"} for config in data["configs"])
    body = DatasetCard(text).text
    for section in ("## Dataset description", "## Use in ruMTEB", "## Splits and sizes", "## Columns"):
        assert section in body
    for section in ("## Provenance", "## Licence", "## Citation", "## Known issues"):
        assert section in body
    assert len(body) > 3000, "a card's body should be at least a page"


def test_card_licences_are_the_task_metadata_licences_as_hub_ids() -> None:
    for repo, tasks in cards.dataset_tasks().items():
        data = DatasetCard((CARDS / cards.card_filename(repo)).read_text(encoding="utf-8")).data.to_dict()
        assert data["license"] == cards.hub_license(tasks[0].metadata.license)
    assert cards.hub_license("not specified") == "unknown"
    with pytest.raises(cards.CardError, match="no Hub licence id"):
        cards.hub_license("cc-by-nc-4.0-some-variant")


def test_rustsbenchmark_card_documents_the_rucola_filter() -> None:
    text = (CARDS / "ai-forever__ru-stsbenchmark-sts.md").read_text(encoding="utf-8")
    known_issues = text.split("## Known issues", 1)[1]
    assert "RuCOLA filter cannot be reproduced" in known_issues
    assert "| pairs | 1,264 | 1,336 |" in text  # mteb's statistics after the filter (test, validation)


def test_committed_cards_are_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert cards.check_cards(CARDS) == []
    assert _run(["cards", "--check", "--dir", str(CARDS)]) == 0
    assert "OK" in capsys.readouterr().out


def test_check_fails_naming_an_edited_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "datasets_cards"
    shutil.copytree(CARDS, folder)
    card = folder / "mteb__TERRa.md"
    card.write_text(card.read_text(encoding="utf-8").replace("307", "308", 1), encoding="utf-8")

    assert _run(["cards", "--check", "--dir", str(folder), "--diff"]) == 1
    out = capsys.readouterr().out
    assert "STALE" in out and "mteb__TERRa.md" in out
    assert "mteb__CEDRClassification.md" not in out
    assert "-" in out and "+" in out  # --diff shows the change

    assert _run(["cards", "--dir", str(folder)]) == 0
    assert cards.check_cards(folder) == []


def test_check_fails_on_a_missing_card_and_a_stray_generated_card(tmp_path: Path) -> None:
    folder = tmp_path / "datasets_cards"
    shutil.copytree(CARDS, folder)
    (folder / "mteb__TERRa.md").unlink()
    stray = folder / "someone__gone.md"
    shutil.copy(CARDS / "mteb__CEDRClassification.md", stray)

    problems = {p.path.name: p.problem for p in cards.check_cards(folder)}
    assert problems.keys() == {"mteb__TERRa.md", "someone__gone.md"}
    assert problems["mteb__TERRa.md"] == "missing"

    cards.write_cards(folder)
    assert (folder / "mteb__TERRa.md").is_file() and not stray.exists()


def test_a_source_with_an_unknown_section_or_key_is_rejected(tmp_path: Path) -> None:
    source = (CARDS / cards.SOURCES / "mteb__TERRa.md").read_text(encoding="utf-8")
    bad_section = tmp_path / "section.md"
    bad_section.write_text(source + "\n## Trivia\n\nNot a card section.\n", encoding="utf-8")
    with pytest.raises(cards.CardError, match="Trivia"):
        cards.read_source(bad_section)
    bad_key = tmp_path / "key.md"
    bad_key.write_text(source.replace("pretty_name:", "licence: mit\npretty_name:", 1), encoding="utf-8")
    with pytest.raises(cards.CardError, match="licence"):
        cards.read_source(bad_key)
    no_issues = tmp_path / "issues.md"
    no_issues.write_text(source.split("## Known issues")[0], encoding="utf-8")
    with pytest.raises(cards.CardError, match="Known issues"):
        cards.read_source(no_issues)


def test_a_missing_source_names_the_file_to_write(tmp_path: Path) -> None:
    folder = tmp_path / "datasets_cards"
    shutil.copytree(CARDS, folder)
    (folder / cards.SOURCES / "mteb__TERRa.md").unlink()
    with pytest.raises(cards.CardError, match=r"_sources/mteb__TERRa\.md of mteb/TERRa is missing"):
        cards.render_cards(folder)


def test_generated_docs_pages_are_up_to_date() -> None:
    problems = cards.check_docs(build_parser(), DOCS)
    assert problems == [], f"run 'rumteb docs' from the repository root: {[str(p) for p in problems]}"


def test_docs_check_fails_on_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "src"
    (folder / "reference").mkdir(parents=True)
    shutil.copy(DOCS / "tasks.md", folder / "tasks.md")
    (folder / "tasks.md").write_text("# Tasks\n\nedited by hand\n", encoding="utf-8")

    assert _run(["docs", "--check", "--dir", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "tasks.md: stale" in out and "cli.md: missing" in out

    assert _run(["docs", "--dir", str(folder)]) == 0
    assert cards.check_docs(build_parser(), folder) == []


def test_cli_reference_covers_every_command() -> None:
    page = cards.render_docs_pages(build_parser())["reference/cli.md"]
    for command in ("rumteb run", "rumteb tasks", "rumteb data pull", "rumteb data verify", "rumteb cards"):
        assert f"`{command}`" in page
    assert "| `--check` |" in page


def test_check_on_a_missing_folder_says_where_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="repository root"):
        cards.check_cards(tmp_path / "nowhere")


def test_size_categories() -> None:
    assert [cards.size_category(n) for n in (999, 1000, 58_518, 9_545_170)] == [
        "n<1K",
        "1K<n<10K",
        "10K<n<100K",
        "1M<n<10M",
    ]


def test_diff_without_check_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--diff"):
        _run(["docs", "--diff", "--dir", str(tmp_path)])

"""The course as a whole: its references (one list, each notebook's drawn from it, the book's bibliography page)
and publishing it under another repository (tools/publish.py rewrites every badge and install line)."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nst_helpers import course

ROOT = Path(__file__).resolve().parents[1]
STEMS = [Path(name).stem for name, _ in course.NOTEBOOKS]


def _tool(name):
    spec = importlib.util.spec_from_file_location(f"{name}_tool", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_reference_can_be_found_and_is_cited():
    keys = [r.key for r in course.REFERENCES]
    assert len(keys) == len(set(keys))
    for ref in course.REFERENCES:
        assert ref.authors and ref.title and ref.venue, ref.key
        assert ref.arxiv or ref.doi or ref.url, f"{ref.key}: an arXiv number, a DOI or an address"
        assert not ref.arxiv or re.fullmatch(r"\d{4}\.\d{4,5}", ref.arxiv), ref.key
        assert not ref.doi or ref.doi.startswith("10."), ref.key
        assert ref.link().startswith("https://")
    cited = {key for keys in course.NOTEBOOK_REFERENCES.values() for key in keys}
    assert cited == set(keys), "every reference is cited by a notebook, and every citation is in the list"
    assert sorted(course.NOTEBOOK_REFERENCES) == [stem[:2] for stem in STEMS]


@pytest.mark.parametrize("stem", STEMS)
def test_each_notebook_ends_with_its_references(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    last = nb.cells[-1].source
    assert last.startswith("## References")
    for key in course.NOTEBOOK_REFERENCES[stem[:2]]:
        assert course.reference(key).markdown() in last


def test_the_book_has_a_references_page_in_its_table_of_contents(tmp_path):
    build_course = _tool("build_course")
    executed = [tmp_path / name for name, _ in course.NOTEBOOKS]
    build_course.write_book_pages(executed, tmp_path)
    toc = (tmp_path / "_toc.yml").read_text()
    assert toc.rstrip().endswith("- file: references") and all(f"- file: {stem}" in toc for stem in STEMS)
    page = (tmp_path / "references.md").read_text()
    assert page.startswith("# References")
    for ref in course.REFERENCES:
        assert ref.markdown() in page


def _copy_of_the_course(tmp_path):
    root = tmp_path / "course"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("notebooks", "tools", "nst_helpers"):
        shutil.copytree(ROOT / folder, root / folder, ignore=ignore)
    shutil.copy(ROOT / "README.md", root / "README.md")
    return root


@pytest.mark.slow
def test_publish_points_every_badge_and_install_line_at_the_new_repository(tmp_path):
    root = _copy_of_the_course(tmp_path)
    old = f"{course.REPOSITORY}.git@{course.BRANCH}", f"github/{course.REPOSITORY}/blob/{course.BRANCH}/"
    badges_before = (root / "README.md").read_text().count(old[1])
    assert badges_before >= len(STEMS)
    done = subprocess.run(
        [sys.executable, str(root / "tools" / "publish.py"), "my-school/nst-2027", "--branch", "spring"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "published for my-school/nst-2027" in done.stdout

    text = (root / "nst_helpers" / "course.py").read_text()
    assert 'REPOSITORY = "my-school/nst-2027"' in text and 'BRANCH = "spring"' in text
    readme = (root / "README.md").read_text()
    assert old[1] not in readme and readme.count("github/my-school/nst-2027/blob/spring/") == badges_before
    for stem in STEMS:
        for suffix in (".md", ".ipynb"):
            source = (root / "notebooks" / f"{stem}{suffix}").read_text()
            assert course.REPOSITORY not in source, f"{stem}{suffix} still names the old repository"
            assert f"colab.research.google.com/github/my-school/nst-2027/blob/spring/notebooks/{stem}.ipynb" in source
            assert "git+https://github.com/my-school/nst-2027.git@spring" in source
    # the pairs still agree: the copy's own check passes
    check = subprocess.run(
        [sys.executable, str(root / "tools" / "notebooks.py"), "check"], capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_publish_refuses_what_is_not_a_repository(tmp_path, capsys):
    publish = _tool("publish")
    root = _copy_of_the_course(tmp_path)
    for bad in ("no-slash", "a/b/c", "../x", "owner/"):
        assert publish.main([bad, "--root", str(root)]) == 1
        assert "is not a GitHub repository" in capsys.readouterr().err
    assert publish.main(["owner/name", "--branch", "a..b", "--root", str(root)]) == 1
    assert course.REPOSITORY in (root / "nst_helpers" / "course.py").read_text()  # nothing was rewritten

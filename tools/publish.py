"""Publish the course under a GitHub repository of your own: one command points every Colab badge, every
notebook's install cell and the README's badges at it.

    python tools/publish.py OWNER/NAME [--branch BRANCH]

It rewrites ``REPOSITORY`` and ``BRANCH`` in ``nst_helpers/course.py`` (where the badges and the install line
are made), the Colab addresses in ``README.md``, and then runs ``tools/notebooks.py sync``, which renders each
notebook's badge and install cell from ``course.py`` into its MyST source (``notebooks/NN_name.md``) and writes
the ``.ipynb`` from it. Commit the changed files, push them to OWNER/NAME, and the badges open the notebooks
there. ``--root`` works on another checkout (the tests use a copy).
"""

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What GitHub accepts as an owner and a repository name, and a plain branch name.
REPOSITORY_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
BRANCH_PATTERN = re.compile(r"[A-Za-z0-9._/-]{1,100}")
COURSE_LINE = re.compile(r'^(REPOSITORY|BRANCH) = "([^"]*)"$', re.MULTILINE)


class PublishError(Exception):
    """The course cannot be published as asked; the message says why and what to do."""


def current(course_py):
    """The (repository, branch) that ``course.py`` names today."""
    found = dict(COURSE_LINE.findall(course_py.read_text(encoding="utf-8")))
    if set(found) != {"REPOSITORY", "BRANCH"}:
        raise PublishError(f'{course_py} has no REPOSITORY = "..." and BRANCH = "..." lines to rewrite')
    return found["REPOSITORY"], found["BRANCH"]


def rewrite_course(course_py, repository, branch):
    text = course_py.read_text(encoding="utf-8")
    values = {"REPOSITORY": repository, "BRANCH": branch}
    course_py.write_text(COURSE_LINE.sub(lambda m: f'{m.group(1)} = "{values[m.group(1)]}"', text), encoding="utf-8")


def rewrite_readme(readme, old, new):
    """Every address of the old repository in the README (Colab badges, GitHub links, the pip line), as
    (owner/name, branch) pairs; returns how many Colab badges point at the new one."""
    (old_repo, old_branch), (new_repo, new_branch) = old, new
    text = readme.read_text(encoding="utf-8")
    text = text.replace(
        f"colab.research.google.com/github/{old_repo}/blob/{old_branch}/",
        f"colab.research.google.com/github/{new_repo}/blob/{new_branch}/",
    )
    text = text.replace(f"github.com/{old_repo}.git@{old_branch}", f"github.com/{new_repo}.git@{new_branch}")
    text = re.sub(rf"github\.com/{re.escape(old_repo)}(?=[/\s)\"'.#]|$)", f"github.com/{new_repo}", text)
    readme.write_text(text, encoding="utf-8")
    return text.count(f"colab.research.google.com/github/{new_repo}/blob/{new_branch}/")


def publish(repository, branch="main", root=ROOT, say=print):
    """Point the course at ``repository`` (owner/name) on ``branch``; returns the notebook files written."""
    if not REPOSITORY_PATTERN.fullmatch(repository or ""):
        raise PublishError(f"{repository!r} is not a GitHub repository: give OWNER/NAME, like my-school/nst-course")
    if not BRANCH_PATTERN.fullmatch(branch or "") or ".." in branch:
        raise PublishError(f"{branch!r} is not a branch name: give one like main")
    root = Path(root)
    course_py, readme, tool = root / "nst_helpers" / "course.py", root / "README.md", root / "tools" / "notebooks.py"
    for path in (course_py, readme, tool):
        if not path.is_file():
            raise PublishError(f"{path} is missing: run this in a checkout of the course (or give --root)")
    old = current(course_py)
    rewrite_course(course_py, repository, branch)
    badges = rewrite_readme(readme, old, (repository, branch))
    # a fresh process: tools/notebooks.py renders the badges and install line from the course.py just written
    done = subprocess.run([sys.executable, str(tool), "sync"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        raise PublishError(f"tools/notebooks.py sync failed: {(done.stderr or done.stdout).strip()[-500:]}")
    written = [line[len("wrote ") :] for line in done.stdout.splitlines() if line.startswith("wrote ")]
    say(
        f"published for {repository} (branch {branch}), was {old[0]} ({old[1]}): nst_helpers/course.py, "
        f"README.md ({badges} Colab badges), {len(written)} notebook files; commit them and push to "
        f"https://github.com/{repository}"
    )
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("repository", metavar="OWNER/NAME", help="the GitHub repository the course is published under")
    p.add_argument("--branch", default="main", help="the branch the badges open (default %(default)s)")
    p.add_argument("--root", type=Path, default=ROOT, help="the checkout to rewrite (default: this one)")
    args = p.parse_args(argv)
    try:
        publish(args.repository, args.branch, args.root)
    except PublishError as err:
        print(f"publish: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

import os
import re
import subprocess
import sys

import pytest

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")


def test_the_readme_example_runs(tmp_path):
    pytest.importorskip("numpy")
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## Python\n") :]
    example = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    script = tmp_path / "example.py"  # a file: spawned workers import its functions
    script.write_text(example)
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr

"""The personal data written into the test fixtures (tests/data/make_fixtures.py): none may reach storage raw."""

from __future__ import annotations

ID_NUMBERS = [
    "411323199001011234",
    "41132319850202123X",
    "411323197703031256",
    "411323196004041278",
    "411323199505051290",
]
PHONES = ["13812345678", "13912345678", "13712345678", "13612345678", "13512345678"]
NAMES = ["张三", "李四", "王五", "赵六", "钱七"]

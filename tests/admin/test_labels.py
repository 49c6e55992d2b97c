"""Every input has a <label>, and the fixed labels are used where their fields exist."""

from __future__ import annotations

from html.parser import HTMLParser

from app.service import DealTracker
from tests.admin.conftest import Browser, open_deal, register_org

UNLABELLED_TYPES = {"hidden", "submit", "button"}


class Labels(HTMLParser):
    """Collects form controls and the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: dict[str, str] = {}
        self._label_for: str | None = None
        self._label_text: list[str] = []
        self._inside_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "label":
            self._inside_label += 1
            self._label_for, self._label_text = attributes.get("for"), []
        elif (
            tag in ("input", "select", "textarea")
            and attributes.get("type") not in UNLABELLED_TYPES
        ):
            attributes["wrapped"] = "yes" if self._inside_label else None
            self.controls.append(attributes)

    def handle_data(self, data: str) -> None:
        if self._inside_label:
            self._label_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._inside_label:
            self._inside_label -= 1
            if self._label_for:
                self.labels[self._label_for] = "".join(self._label_text).strip()


def _check(html: str) -> set[str]:
    parser = Labels()
    parser.feed(html)
    for control in parser.controls:
        assert control["wrapped"] or control.get("id") in parser.labels, control
    return set(parser.labels.values())


def test_every_admin_form_labels_its_inputs_with_the_fixed_words(
    editor: Browser, anonymous: Browser, tracker: DealTracker
) -> None:
    org_id = register_org(tracker, "Label Co")
    deal_id = open_deal(tracker, org_id, register_org(tracker, "Other Co"))
    assert {"Username", "Password"} <= _check(anonymous.get("/admin/login").get_data(as_text=True))
    pages = {
        "/admin/organizations": {"Search"},
        "/admin/organizations/new": {"Name", "Aliases", "Type"},
        "/admin/deals": {"Type", "Status"},
        "/admin/deals/new?kind=investment": {"Publisher", "Attribution", "Occurred"},
        f"/admin/deals/{deal_id}": {"As of", "Known at"},
        f"/admin/deals/{deal_id}/record": {
            "Status",
            "Amount",
            "Basis",
            "Occurred",
            "Publisher",
            "Attribution",
        },
        f"/admin/organizations/{org_id}/record?type=organization.renamed": {"Name", "Occurred"},
        f"/admin/organizations/{org_id}/record?type=organization.announced": {"Occurred"},
        "/admin/snapshots": set(),
    }
    for page, expected in pages.items():
        html = editor.get(page).get_data(as_text=True)
        assert expected <= _check(html), page
    event_id = tracker.history(f"org:{org_id}")[0]["event_id"]
    correct = editor.get(f"/admin/events/{event_id}/correct").get_data(as_text=True)
    assert {"Name", "Type", "Aliases", "Reason"} <= _check(correct)

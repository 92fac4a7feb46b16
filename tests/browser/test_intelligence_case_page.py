"""A clerk answers the intake analysis on the case page: corrects the suggested category and confirms a
proposed related case into one matter, on a desktop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from jiefen.cases.intake import PersonInput

# The live server answers from another thread, so test data must be committed (transaction=True).
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_data_dir"),
]


@pytest.fixture
def analysed(make_case: Callable[..., Any]) -> dict[str, Any]:
    """Four cases in the similar-case index, then a new one about the same compound as the first: intake
    classifies it and proposes the first as related (the same place, the same problem)."""
    from jiefen.cases.models import Case
    from jiefen.intelligence import services

    first = make_case(
        title="魅力之城小区油烟扰民",
        content="魅力之城小区临街餐馆油烟直排，深夜噪音扰民。",
        petitioner=PersonInput(name="孙八", phone="13400134000"),
    )
    for i, (title, content) in enumerate(
        [
            ("公司拖欠工资", "西湖建筑集团拖欠30名工人工资15万元。"),
            ("道路破损", "劳动东路路面破损积水。"),
            ("学校强制实习", "A市经济学院强制学生外出实习。"),
        ]
    ):
        make_case(title=title, content=content, petitioner=PersonInput(name=f"周{i}"))
    corpus = [f"{c.title} {c.content}" for c in Case.objects.all()]
    services.reindex(fit_texts=corpus * 2)  # every n-gram twice: a tiny corpus still fits the vectoriser
    case = make_case(
        title="魅力之城小区烧烤油烟",
        content="魅力之城小区楼下烧烤摊油烟熏人，营业到凌晨，窗户都不敢开。",
        petitioner=PersonInput(name="吴九", phone="13300133000"),
        place_text="魅力之城小区",
    )
    return {"first": first, "case": case}


def test_a_clerk_corrects_the_category_and_confirms_the_related_case(
    new_page: Any, login: Any, shoot: Any, analysed: dict[str, Any], clerk: Any, fits_width: Any
) -> None:
    from playwright.sync_api import expect

    from jiefen.cases.models import Case
    from jiefen.intelligence.models import Correction

    case, first = analysed["case"], analysed["first"]
    page = new_page()
    login(page, "clerk")
    page.goto(f"/cases/{case.pk}/")
    box = page.locator("section.card-enrichment")
    expect(box.get_by_role("heading", name="分类建议")).to_be_visible()
    related = box.locator(f"#related-{first.pk}")
    expect(related).to_contain_text(first.receipt_number)
    expect(related).to_contain_text("同一地点：魅力之城小区")
    box.scroll_into_view_if_needed()
    shoot(page, "intelligence-01-analysis")

    # Correct the category: the chooser opens on the suggestion, the quick picks carry their scores.
    box.locator("#change-category summary").click()
    chooser = box.get_by_label("选择分类")
    expect(chooser).to_be_visible()
    suggested = chooser.locator("option:checked").inner_text().strip()
    assert suggested == case.category.name  # the suggestion, applied at intake, is pre-selected
    expect(box.locator("button.pick").first).to_be_disabled()  # the current category
    chooser.select_option(label="\u3000噪声污染")
    shoot(page, "intelligence-02-category-chooser", full_page=False)
    box.get_by_role("button", name="确认更正分类").click()
    expect(page.locator(".messages")).to_have_text("分类已更正为“生态环境 › 噪声污染”")
    category = page.locator("dd.case-category")
    expect(category).to_contain_text("生态环境 › 噪声污染")
    expect(category.locator(".corrected")).to_have_text(
        re.compile(r"^clerk 于 \d{4}-\d\d-\d\d \d\d:\d\d 更正（系统建议：.+）$")
    )
    shoot(page, "intelligence-03-category-corrected")
    correction = Correction.objects.get(case=case)
    assert (correction.category.full_name, correction.actor) == ("生态环境 › 噪声污染", clerk)

    # Confirm the proposed related case: it shows as linked and its button is gone.
    related = page.locator(f"#related-{first.pk}")
    related.get_by_role("button", name="确认关联").click()
    expect(page.locator(".messages")).to_have_text(f"已确认关联：本件与 {first.receipt_number} 属于同一事项")
    related = page.locator(f"#related-{first.pk}")
    expect(related.locator(".tag.linked")).to_have_text("已关联（同一事项）")
    expect(related.get_by_role("button", name="确认关联")).to_have_count(0)
    expect(page.locator("section.card-matter")).to_contain_text(first.receipt_number)
    page.locator("section.card-enrichment").scroll_into_view_if_needed()
    shoot(page, "intelligence-04-linked")
    assert Case.objects.get(pk=case.pk).matter_id == first.matter_id

    # The same page on a phone, and in English.
    phone = new_page(viewport={"width": 360, "height": 740})
    login(phone, "clerk")
    phone.goto(f"/cases/{case.pk}/")
    phone.locator("#change-category summary").click()
    assert fits_width(phone)
    phone.locator("section.card-enrichment").scroll_into_view_if_needed()
    shoot(phone, "intelligence-05-phone")

    english = new_page()
    login(english, "clerk")
    english.goto(f"/cases/{case.pk}/")
    english.get_by_label("语言").select_option("en")
    expect(english.get_by_role("heading", name="Category suggestion")).to_be_visible()
    expect(english.locator(f"#related-{first.pk} .tag.linked")).to_have_text("Linked (same matter)")
    english.locator("section.card-enrichment").scroll_into_view_if_needed()
    shoot(english, "intelligence-06-english")

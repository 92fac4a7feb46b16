from typing import Any


def test_the_home_page_counts_the_users_cases(
    client_for: Any, dispatcher: Any, handler_a: Any, list_cases: Any
) -> None:
    html = client_for(dispatcher).get("/").content.decode()
    tiles = html[html.index('<div class="tiles">') : html.index("</div>", html.index('<div class="tiles">'))]
    assert '?status=registered"><b>1</b>待受理' in tiles
    assert '"><b>3</b>在办' in tiles
    assert '?colour=yellow"><b>1</b>黄色预警' in tiles
    assert '?colour=red"><b>1</b>红色超期' in tiles
    assert '<a href="/cases/" aria-current="page">' not in html
    assert '<a href="/" aria-current="page">工作台</a>' in html


def test_a_unit_sees_its_pending_tasks_on_the_home_page(
    client_for: Any, handler_a: Any, list_cases: Any
) -> None:
    html = client_for(handler_a).get("/").content.decode()
    assert "待签收的交办任务" in html
    assert f'href="/cases/{list_cases["wage"].pk}/">农民工工资被拖欠半年</a>' in html
    assert '"><b>2</b>在办' in html


def test_unknown_pages_get_the_styled_not_found_page(client_for: Any, clerk: Any) -> None:
    response = client_for(clerk).get("/no/such/page/")
    assert response.status_code == 404
    assert "页面不存在或您无权查看" in response.content.decode()

"""The document templates a new installation starts with (loaded by a data migration; admins edit them)."""

from __future__ import annotations

RECORD_TITLE = "调解笔录"
RECORD_BODY = """纠纷编号：{{ number }}
纠纷名称：{{ title }}
调解时间：{{ session_time }}
调解地点：{{ session_place }}
调解组织：{{ committee }}
调解员：{{ mediator }}
参加人员：{{ participants }}

当事人：
{{ parties }}

调解员告知：人民调解遵循当事人自愿、平等的原则，不收取任何费用；当事人有权拒绝调解或者随时要求终止调解。

调解经过：
{{ minutes }}

当事人（签名）：
调解员（签名）：
记录人（签名）：
{{ date }}"""

AGREEMENT_TITLE = "人民调解协议书"
AGREEMENT_BODY = """编号：{{ number }}

{{ parties }}

纠纷主要事实、争议事项：
{{ facts }}

经{{ committee }}主持调解，当事人自愿达成如下协议：
{{ terms }}

履行方式、时限：{{ performance_due }}

本协议一式三份，当事人、人民调解委员会各持一份。

{{ confirmation_notice }}

当事人（签名盖章或按指印）：

人民调解员（签名）：{{ mediator }}

人民调解委员会（印）：{{ committee }}
{{ date }}"""

DEFAULTS = {
    "record": (RECORD_TITLE, RECORD_BODY),
    "agreement": (AGREEMENT_TITLE, AGREEMENT_BODY),
}

"""The templates a new office starts with (editable in the admin). Django template syntax, one paragraph a
line."""

from __future__ import annotations

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "acceptance_notice": (
        "信访事项受理告知书",
        """{{ petitioner_name }}：
你（你们）于{{ received_date }}通过{{ channel }}提出的信访事项（受理编号 {{ receipt_number }}，“{{ title }}”），本机关已于{{ today }}依法受理。
依据《信访工作条例》第三十四条，该信访事项将自受理之日起60日内办结；情况复杂的，经批准可以适当延长办理期限，延长期限不超过30日，并告知你（你们）延期理由。
你（你们）可以凭受理编号和查询码查询办理进展。
{{ office }}
{{ today }}""",
    ),
    "decline_notice": (
        "信访事项不予受理告知书",
        """{{ petitioner_name }}：
你（你们）于{{ received_date }}通过{{ channel }}提出的信访事项（受理编号 {{ receipt_number }}，“{{ title }}”），经审查，{{ reason }}
依据《信访工作条例》第三十一条，该事项应当通过{{ proper_channel }}解决，本机关不予受理。请你（你们）依法向有关机关提出。
{{ office }}
{{ today }}""",
    ),
    "transfer_notice": (
        "信访事项转送告知书",
        """{{ petitioner_name }}：
你（你们）于{{ received_date }}通过{{ channel }}提出的信访事项（受理编号 {{ receipt_number }}，“{{ title }}”），{{ reason }}
依据《信访工作条例》第二十二条，本机关已将该事项转送{{ authority }}处理，请你（你们）与其联系。
{{ office }}
{{ today }}""",
    ),
    "reply": (
        "信访事项处理意见书",
        """{{ petitioner_name }}：
你（你们）于{{ received_date }}提出的信访事项（受理编号 {{ receipt_number }}，“{{ title }}”），由{{ unit }}办理，现答复如下：
一、基本事实：{{ facts }}
二、处理依据：{{ basis }}
三、处理意见：{{ conclusion }}
四、{{ review_rights }}
{{ unit }}
{{ today }}""",
    ),
}

"""The default message texts, one per event and channel. Admins edit them; this loads them once."""

from django.db import migrations

SIGN = "{{ office_name }}"

UNIT_TEXTS = {
    "case_dispatched": (
        "新交办：{{ receipt_number }}「{{ title }}」",
        "{{ office_name }}将信访件 {{ receipt_number }}「{{ title }}」交{{ unit }}办理，请及时签收。"
        "{% if due_at %}当前时限：{{ due_at }}。{% endif %}",
    ),
    "clock_warning": (
        "时限预警：{{ receipt_number }}",
        "信访件 {{ receipt_number }}「{{ title }}」{{ clock|default:'办理时限' }}即将到期"
        "{% if due_at %}（{{ due_at }}）{% endif %}，请{{ unit|default:'承办单位' }}抓紧办理。",
    ),
    "clock_breached": (
        "已超期：{{ receipt_number }}",
        "信访件 {{ receipt_number }}「{{ title }}」{{ clock|default:'办理时限' }}已超期"
        "{% if due_at %}（时限 {{ due_at }}）{% endif %}，请{{ unit|default:'承办单位' }}立即办理并说明原因。",
    ),
    "case_urged": (
        "催办：{{ receipt_number }}",
        "信访件 {{ receipt_number }}「{{ title }}」办理进度滞后，请{{ unit }}加快办理并及时报告进展。"
        "{% if note %}催办意见：{{ note }}{% endif %}",
    ),
    "supervision_order": (
        "督办：{{ receipt_number }}",
        "信访件 {{ receipt_number }}「{{ title }}」列为督办件，请{{ unit }}负责人亲自研究"
        "{% if due_at %}，于 {{ due_at }} 前报告办理结果{% endif %}。{% if note %}督办意见：{{ note }}{% endif %}",
    ),
}

PETITIONER_TEXTS = {
    "case_registered": "您的信访事项已登记，受理编号 {{ receipt_number }}，查询码 {{ query_code }}。"
    "请妥善保管查询码，凭编号和查询码可查询办理进展。" + SIGN,
    "case_accepted": "您的信访事项（编号 {{ receipt_number }}）已受理，我们将在法定期限内办理并书面答复。" + SIGN,
    "case_declined": "您的信访事项（编号 {{ receipt_number }}）不予受理{% if reason %}：{{ reason }}{% endif %}。"
    "{% if proper_channel %}请向{{ proper_channel }}反映。{% endif %}书面告知将另行送达。" + SIGN,
    "reply_sent": "您的信访事项（编号 {{ receipt_number }}）已作出答复，请查收答复意见。"
    "如不服，可自收到答复之日起 30 日内请求复查。" + SIGN,
    "follow_up_request": "您的信访事项（编号 {{ receipt_number }}）已答复，请告诉我们问题是否解决、"
    "您是否满意，凭编号和查询码即可评价。" + SIGN,
}


def load(apps, schema_editor):
    MessageTemplate = apps.get_model("notify", "MessageTemplate")
    rows = []
    for key, text in PETITIONER_TEXTS.items():
        rows.append(MessageTemplate(key=key, channel="sms", subject="", body=text))
    for key, (subject, body) in UNIT_TEXTS.items():
        for channel in ("inapp", "sms", "email"):
            rows.append(
                MessageTemplate(
                    key=key,
                    channel=channel,
                    subject=subject,
                    body=f"【{subject}】{body}" if channel == "sms" else body,
                )
            )
    for row in rows:
        MessageTemplate.objects.get_or_create(
            key=row.key, channel=row.channel, defaults={"subject": row.subject, "body": row.body}
        )


def unload(apps, schema_editor):
    apps.get_model("notify", "MessageTemplate").objects.filter(key__in=[*PETITIONER_TEXTS, *UNIT_TEXTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("notify", "0001_outbox_templates_messages")]
    operations = [migrations.RunPython(load, unload)]

from django.db import migrations


def load(apps, schema_editor):
    from jiefen.clocks.policies import HOTLINE_SAMPLES, STATUTORY

    ClockPolicy = apps.get_model("clocks", "ClockPolicy")
    if ClockPolicy.objects.exists():
        return
    for kind, amount, unit, max_extension, basis, case_type, channel, urgency, is_sample in [*STATUTORY, *HOTLINE_SAMPLES]:
        ClockPolicy.objects.create(
            kind=kind,
            amount=amount,
            unit=unit,
            max_extension=max_extension,
            legal_basis=basis,
            case_type=case_type,
            channel=channel,
            urgency=urgency,
            is_sample=is_sample,
        )


class Migration(migrations.Migration):
    dependencies = [("clocks", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

"""Person contact fields for care navigation: the phone number moves to an encrypted column, and a
preferred way of contact and the person's consent to be contacted are added.

The old plaintext column is copied into the encrypted one (each value encrypted on the way), then
dropped; backwards, the values are decrypted into a plaintext column again.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models

import apps.core.crypto


def encrypt_phones(apps: Any, schema_editor: Any) -> None:
    Person = apps.get_model("clinical", "Person")
    for pk, phone in Person.objects.exclude(phone="").values_list("pk", "phone").iterator():
        Person.objects.filter(pk=pk).update(phone_encrypted=phone)


def decrypt_phones(apps: Any, schema_editor: Any) -> None:
    Person = apps.get_model("clinical", "Person")
    for pk, phone in Person.objects.values_list("pk", "phone_encrypted").iterator():
        if phone:
            Person.objects.filter(pk=pk).update(phone=phone[:32])


class Migration(migrations.Migration):
    dependencies = [("clinical", "0005_encounter_started_index")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="phone_encrypted",
            field=apps.core.crypto.EncryptedTextField(blank=True, default=""),
        ),
        migrations.RunPython(encrypt_phones, decrypt_phones),
        migrations.RemoveField(model_name="person", name="phone"),
        migrations.RenameField(model_name="person", old_name="phone_encrypted", new_name="phone"),
        migrations.AddField(
            model_name="person",
            name="preferred_contact",
            field=models.CharField(
                choices=[
                    ("unstated", "Not stated"),
                    ("call", "Phone call"),
                    ("text", "Text message"),
                    ("visit", "In person"),
                ],
                default="unstated",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="person",
            name="contact_consent",
            field=models.CharField(
                choices=[
                    ("unknown", "Not asked yet"),
                    ("yes", "Agrees to be contacted"),
                    ("no", "Does not want to be contacted"),
                ],
                default="unknown",
                max_length=8,
            ),
        ),
    ]

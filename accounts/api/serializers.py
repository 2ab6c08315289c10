from rest_framework import serializers

from accounts.models import User


class MeSerializer(serializers.ModelSerializer):
    role = serializers.CharField(source="role.value", read_only=True)
    email_verified = serializers.BooleanField(source="is_email_verified", read_only=True)

    class Meta:
        model = User
        fields = [
            "uid",
            "email",
            "display_name",
            "preferred_language",
            "time_zone",
            "role",
            "email_verified",
            "date_joined",
        ]
        read_only_fields = ["uid", "email", "role", "email_verified", "date_joined"]

from rest_framework import generics

from accounts import services
from accounts.api.serializers import MeSerializer


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user's own account: UID, language, time zone, role."""

    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        user = self.request.user
        data = serializer.validated_data
        services.user_update_profile(
            user=user,
            display_name=data.get("display_name", user.display_name),
            preferred_language=data.get("preferred_language", user.preferred_language),
            time_zone=data.get("time_zone", user.time_zone),
        )

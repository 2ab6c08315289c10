"""Help-center editing in the agent console (filled in by helpcenter.console_views)."""

app_name = "helpcenter_console"

urlpatterns: list = []

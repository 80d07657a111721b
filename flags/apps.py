from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Flags and the overview snapshot"

    def ready(self) -> None:
        from learners.signals import learners_delivered

        from .snapshot import follow_learners_to_their_centres

        # A learner an import moved leaves the old centre's Overview and Detail at once.
        learners_delivered.connect(
            lambda **kwargs: follow_learners_to_their_centres(),
            dispatch_uid="flags.follow_learners_to_their_centres",
            weak=False,
        )

from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Flags and the overview snapshot"

    def ready(self) -> None:
        from learners.signals import learner_data_committed, learners_delivered

        from .snapshot import follow_learners_to_their_centres
        from .tasks import refresh_soon

        # A learner an import moved leaves the old centre's Overview and Detail at once.
        learners_delivered.connect(
            lambda **kwargs: follow_learners_to_their_centres(),
            dispatch_uid="flags.follow_learners_to_their_centres",
            weak=False,
        )
        # The Overview within minutes: the learners a committed change touched are worked
        # out again (flags.refresh), on a worker, or at once in-process.
        learner_data_committed.connect(refresh_soon, dispatch_uid="flags.refresh_soon", weak=False)

from django.apps import AppConfig


class FlagsConfig(AppConfig):
    name = "flags"
    verbose_name = "Flags and the overview snapshot"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from learners.models import GradeThreshold, MarkWindow, Qualification, Series, Unit
        from learners.signals import catalogue_delivered, learner_data_committed, learners_delivered

        from .loaders import catalogue_changed
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
        # Pages keep a copy of the catalogue (flags.loaders.current_catalogue): a change to
        # it, by the feed or in the admin, has every process read it again.
        catalogue_delivered.connect(catalogue_changed, dispatch_uid="flags.catalogue", weak=False)
        for model in (Series, Qualification, Unit, MarkWindow, GradeThreshold):
            for signal in (post_save, post_delete):
                signal.connect(
                    catalogue_changed,
                    sender=model,
                    dispatch_uid=f"flags.catalogue.{signal is post_save}.{model.__name__}",
                    weak=False,
                )

from .catalogue import GradeThreshold, LineOfLearning, MarkWindow, Qualification, Series, Unit
from .feed import ChangedComponent, DataChange, DeliveredFile, ImportRun
from .records import DASStatus, Entry, Learner, MarkSubmission, Result, VQStatus

__all__ = [
    "ChangedComponent",
    "DASStatus",
    "DataChange",
    "DeliveredFile",
    "Entry",
    "GradeThreshold",
    "ImportRun",
    "Learner",
    "LineOfLearning",
    "MarkSubmission",
    "MarkWindow",
    "Qualification",
    "Result",
    "Series",
    "Unit",
    "VQStatus",
]

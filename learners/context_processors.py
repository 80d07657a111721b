from django.conf import settings
from django.http import HttpRequest


def support(request: HttpRequest) -> dict:
    return {
        "support": {
            "email": settings.SUPPORT_EMAIL,
            "phone": settings.SUPPORT_PHONE,
            "hours": settings.SUPPORT_HOURS,
        }
    }

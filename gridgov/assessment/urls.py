from django.urls import path

from . import views

app_name = "assessment"
urlpatterns = [
    path("", views.index, name="index"),
    path("compute/", views.compute, name="compute"),
    path("indicators/", views.library, name="library"),
    path("process/", views.process, name="process"),
    path("process/<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/publish/", views.publish, name="publish"),
    path("<int:pk>/workers/", views.workers, name="workers"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/region/<str:code>/", views.region, name="region"),
    path("<int:pk>/region/<str:code>/<str:indicator>/", views.drill, name="drill"),
]

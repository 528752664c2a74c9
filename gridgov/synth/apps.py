from django.apps import AppConfig


class SynthConfig(AppConfig):
    name = "gridgov.synth"
    label = "synth"
    verbose_name = "合成数据"

"""JSON Schema (draft 2020-12) of the Cloud Monitoring Dashboard fields aidc writes.

Derived from the Dashboard REST reference, projects.dashboards
(https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards), and its Widget,
XyChart, Scorecard, Text, TimeSeriesQuery, TimeSeriesFilter and Aggregation types. It covers
only the subset aidc uses, and it is closed (`additionalProperties: false`): a misspelt field or
an enum value the API does not know fails here, offline, instead of at `pulumi up`.
"""

from __future__ import annotations

from typing import Any

DURATION = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,9})?s$"}

ALIGNERS = [
    "ALIGN_NONE", "ALIGN_DELTA", "ALIGN_RATE", "ALIGN_INTERPOLATE", "ALIGN_NEXT_OLDER",
    "ALIGN_MIN", "ALIGN_MAX", "ALIGN_MEAN", "ALIGN_COUNT", "ALIGN_SUM", "ALIGN_STDDEV",
    "ALIGN_COUNT_TRUE", "ALIGN_COUNT_FALSE", "ALIGN_FRACTION_TRUE", "ALIGN_PERCENTILE_99",
    "ALIGN_PERCENTILE_95", "ALIGN_PERCENTILE_50", "ALIGN_PERCENTILE_05", "ALIGN_PERCENT_CHANGE",
]
REDUCERS = [
    "REDUCE_NONE", "REDUCE_MEAN", "REDUCE_MIN", "REDUCE_MAX", "REDUCE_SUM", "REDUCE_STDDEV",
    "REDUCE_COUNT", "REDUCE_COUNT_TRUE", "REDUCE_COUNT_FALSE", "REDUCE_FRACTION_TRUE",
    "REDUCE_PERCENTILE_99", "REDUCE_PERCENTILE_95", "REDUCE_PERCENTILE_50", "REDUCE_PERCENTILE_05",
]
COLORS = ["COLOR_UNSPECIFIED", "GREY", "BLUE", "GREEN", "YELLOW", "ORANGE", "RED"]
MAX_COLUMNS = 48  # MosaicLayout.columns: 1..48

DASHBOARD_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Cloud Monitoring Dashboard (subset written by aidc)",
    "type": "object",
    "additionalProperties": False,
    "required": ["displayName", "mosaicLayout"],
    "properties": {
        "displayName": {"type": "string", "minLength": 1, "maxLength": 512},
        "labels": {"type": "object", "propertyNames": {"pattern": r"^[a-z][a-z0-9_-]{0,62}$"},
                   "additionalProperties": {"type": "string", "pattern": r"^[a-z0-9_-]{0,63}$"}},
        "mosaicLayout": {"$ref": "#/$defs/MosaicLayout"},
    },
    "$defs": {
        "MosaicLayout": {
            "type": "object",
            "additionalProperties": False,
            "required": ["columns", "tiles"],
            "properties": {
                "columns": {"type": "integer", "minimum": 1, "maximum": MAX_COLUMNS},
                "tiles": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/Tile"}},
            },
        },
        "Tile": {
            "type": "object",
            "additionalProperties": False,
            "required": ["width", "height", "widget"],
            "properties": {
                "xPos": {"type": "integer", "minimum": 0},
                "yPos": {"type": "integer", "minimum": 0},
                "width": {"type": "integer", "minimum": 1, "maximum": MAX_COLUMNS},
                "height": {"type": "integer", "minimum": 1},
                "widget": {"$ref": "#/$defs/Widget"},
            },
        },
        "Widget": {
            "type": "object",
            "additionalProperties": False,
            "required": ["title"],
            "properties": {
                "title": {"type": "string"},
                "xyChart": {"$ref": "#/$defs/XyChart"},
                "scorecard": {"$ref": "#/$defs/Scorecard"},
                "text": {"$ref": "#/$defs/Text"},
            },
            # Widget.content is a union: exactly one kind of widget.
            "oneOf": [
                {"required": ["xyChart"]},
                {"required": ["scorecard"]},
                {"required": ["text"]},
            ],
        },
        "XyChart": {
            "type": "object",
            "additionalProperties": False,
            "required": ["dataSets"],
            "properties": {
                "dataSets": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/DataSet"}},
                "thresholds": {"type": "array", "items": {"$ref": "#/$defs/Threshold"}},
                "yAxis": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"label": {"type": "string"},
                                   "scale": {"enum": ["SCALE_UNSPECIFIED", "LINEAR", "LOG10"]}},
                },
                "chartOptions": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"mode": {"enum": ["MODE_UNSPECIFIED", "COLOR", "X_RAY",
                                                     "STATS"]}},
                },
            },
        },
        "DataSet": {
            "type": "object",
            "additionalProperties": False,
            "required": ["timeSeriesQuery"],
            "properties": {
                "timeSeriesQuery": {"$ref": "#/$defs/TimeSeriesQuery"},
                "plotType": {"enum": ["PLOT_TYPE_UNSPECIFIED", "LINE", "STACKED_AREA",
                                      "STACKED_BAR", "HEATMAP"]},
                "legendTemplate": {"type": "string"},
                "minAlignmentPeriod": DURATION,
                "targetAxis": {"enum": ["TARGET_AXIS_UNSPECIFIED", "Y1", "Y2"]},
            },
        },
        "TimeSeriesQuery": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "timeSeriesFilter": {"$ref": "#/$defs/TimeSeriesFilter"},
                "prometheusQuery": {"type": "string", "minLength": 1},
                "unitOverride": {"type": "string"},
            },
            # TimeSeriesQuery.source is a union: one of filter or PromQL (aidc writes no MQL).
            "oneOf": [
                {"required": ["timeSeriesFilter"]},
                {"required": ["prometheusQuery"]},
            ],
        },
        "TimeSeriesFilter": {
            "type": "object",
            "additionalProperties": False,
            "required": ["filter"],
            "properties": {
                "filter": {"type": "string", "pattern": r"metric\.type\s*="},
                "aggregation": {"$ref": "#/$defs/Aggregation"},
                "secondaryAggregation": {"$ref": "#/$defs/Aggregation"},
            },
        },
        "Aggregation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "alignmentPeriod": DURATION,
                "perSeriesAligner": {"enum": ALIGNERS},
                "crossSeriesReducer": {"enum": REDUCERS},
                "groupByFields": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Scorecard": {
            "type": "object",
            "additionalProperties": False,
            "required": ["timeSeriesQuery"],
            "properties": {
                "timeSeriesQuery": {"$ref": "#/$defs/TimeSeriesQuery"},
                "thresholds": {"type": "array", "items": {"$ref": "#/$defs/Threshold"}},
                "sparkChartView": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["sparkChartType"],
                    "properties": {"sparkChartType": {"enum": ["SPARK_LINE", "SPARK_BAR"]},
                                   "minAlignmentPeriod": DURATION},
                },
            },
        },
        "Threshold": {
            "type": "object",
            "additionalProperties": False,
            "required": ["value"],
            "properties": {
                "label": {"type": "string"},
                "value": {"type": "number"},
                "color": {"enum": COLORS},
                "direction": {"enum": ["DIRECTION_UNSPECIFIED", "ABOVE", "BELOW"]},
                "targetAxis": {"enum": ["TARGET_AXIS_UNSPECIFIED", "Y1", "Y2"]},
            },
        },
        "Text": {
            "type": "object",
            "additionalProperties": False,
            "required": ["content"],
            "properties": {
                "content": {"type": "string"},
                "format": {"enum": ["FORMAT_UNSPECIFIED", "MARKDOWN", "RAW"]},
            },
        },
    },
}

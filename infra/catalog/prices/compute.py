"""Compute Engine prices: machine types (GPU ones with their GPUs), boot disks and Local SSD.

The figures are Google's Cloud Billing Catalog SKU list prices as Cyclenerd's
google-cloud-pricing-cost-calculator exports them (one file, regenerated weekly from the Catalog
API; the version read is pinned by commit below). That export sums each machine type's SKUs
the way Google bills it: vCPUs x vCPU rate + GiB x memory rate + GPUs x GPU rate + bundled Local
SSD GiB x Local SSD rate, so an A3 or A2 Ultra figure is the whole VM. Spot prices are the ones in
effect that day: Google may change them up to once a day (https://cloud.google.com/spot-vms/pricing).

Regions: us-central1 (the shipped stacks), us-east4 and europe-west4 (where A3 and A2 capacity
is common). A machine type missing from a region here is missing from the export too: A3 Mega
has no us-central1 price in it (it lists A3 Mega in asia-northeast1, asia-southeast1,
australia-southeast1, europe-west1, europe-west3, europe-west4, us-east4, us-east5, us-west4),
and A3 Ultra, A4 and N1-attached GPUs have no rows at all, so aidc reports them unpriced.
"""

from __future__ import annotations

from datetime import date
from types import MappingProxyType
from typing import Mapping

from infra.catalog.prices.records import GibMonthPrice, MachinePrice
from infra.catalog.source import Source

SKU_EXPORT_URL = (
    "https://github.com/Cyclenerd/google-cloud-pricing-cost-calculator/blob/"
    "fd66b26ff84fee5cdd94f341ea89206e76c06b99/pricing.yml"
)
SKU_EXPORT_AS_OF = date(2026, 7, 30)  # the export's own "generated: Thu Jul 30 06:13:17 2026"
VM_PRICING_URL = "https://cloud.google.com/compute/vm-instance-pricing"
DISK_PRICING_URL = "https://cloud.google.com/compute/disks-image-pricing"

_MACHINE_SOURCE = Source(
    SKU_EXPORT_URL,
    SKU_EXPORT_AS_OF,
    "compute.instance.<type>.cost.<region>: hour (on-demand), hour_spot, month_1y and month_3y "
    f"(committed use, 730 h); Google's Cloud Billing Catalog SKUs behind {VM_PRICING_URL}. "
    "Hourly figures rounded to 6 decimals, commitments to cents. Accelerator-optimized prices "
    "include the built-in GPUs and the bundled Local SSD.",
)

# (machine type, on-demand $/h, spot $/h, 1-year commitment $/month, 3-year $/month)
_MACHINE_ROWS: dict[str, tuple[tuple[str, float, float, float | None, float | None], ...]] = {
    "us-central1": (
        ("a2-highgpu-1g", 3.673385, 1.92802, 1689.37, 938.57),
        ("a2-highgpu-2g", 7.34677, 3.85604, 3378.74, 1877.13),
        ("a2-highgpu-4g", 14.69354, 7.71208, 6757.48, 3754.27),
        ("a2-highgpu-8g", 29.38708, 15.42416, 13514.97, 7508.54),
        ("a2-megagpu-16g", 55.739504, 29.25568, 25634.3, 14241.72),
        ("a2-ultragpu-1g", 5.068798, 2.759546, None, None),
        ("a2-ultragpu-2g", 10.137596, 5.519093, None, None),
        ("a2-ultragpu-4g", 20.275192, 11.038185, None, None),
        ("a2-ultragpu-8g", 40.550383, 22.07637, None, None),
        ("a3-highgpu-1g", 11.06125, 6.326193, 5601.26, 3546.37),
        ("a3-highgpu-2g", 22.1225, 12.652385, 11202.52, 7092.75),
        ("a3-highgpu-4g", 44.245, 25.30477, 22405.04, 14185.5),
        ("a3-highgpu-8g", 88.49, 50.609541, 44810.08, 28371),
        ("e2-standard-2", 0.067011, 0.040212, 30.82, 22.01),
        ("e2-standard-4", 0.134023, 0.080424, 61.64, 44.03),
        ("e2-standard-8", 0.268046, 0.160848, 123.27, 88.05),
        ("e2-standard-16", 0.536091, 0.321696, 246.55, 176.11),
        ("e2-standard-32", 1.072183, 0.643392, 493.1, 352.21),
        ("g2-standard-4", 0.706832, 0.397336, 325.07, 232.19),
        ("g2-standard-8", 0.853624, 0.479872, 392.58, 280.42),
        ("g2-standard-12", 1.000416, 0.562408, 460.09, 328.64),
        ("g2-standard-16", 1.147208, 0.644944, 527.6, 376.86),
        ("g2-standard-24", 2.000833, 1.124816, 920.18, 657.27),
        ("g2-standard-32", 1.734376, 0.975088, 797.64, 569.74),
        ("g2-standard-48", 4.001665, 2.249632, 1840.37, 1314.55),
        ("g2-standard-96", 8.00333, 4.499264, 3680.73, 2629.09),
        ("n1-standard-1", 0.0475, 0.016753, 21.84, 15.6),
        ("n1-standard-2", 0.095, 0.033505, 43.69, 31.21),
        ("n1-standard-4", 0.189999, 0.06701, 87.38, 62.42),
        ("n1-standard-8", 0.379998, 0.13402, 174.75, 124.84),
        ("n1-standard-16", 0.759996, 0.26804, 349.51, 249.67),
        ("n1-standard-32", 1.519992, 0.53608, 699.02, 499.35),
        ("n1-standard-64", 3.039984, 1.07216, 1398.04, 998.7),
        ("n1-standard-96", 4.559976, 1.60824, 2097.06, 1498.05),
        ("n2-standard-2", 0.097118, 0.04606, 44.66, 31.91),
        ("n2-standard-4", 0.194236, 0.09212, 89.33, 63.81),
        ("n2-standard-8", 0.388472, 0.18424, 178.65, 127.62),
        ("n2-standard-16", 0.776944, 0.36848, 357.3, 255.24),
        ("n2-standard-32", 1.553888, 0.73696, 714.61, 510.49),
        ("n2-standard-48", 2.330832, 1.10544, 1071.91, 765.73),
        ("n2-standard-64", 3.107776, 1.47392, 1429.21, 1020.97),
        ("n2-standard-80", 3.88472, 1.8424, 1786.51, 1276.22),
        ("n2-standard-96", 4.661664, 2.21088, 2143.82, 1531.46),
        ("n2-standard-128", 6.215552, 2.94784, 2858.42, 2041.94),
    ),
    "us-east4": (
        ("a2-highgpu-1g", 3.934355, 2.360575, 1793.62, 1009.27),
        ("a2-highgpu-2g", 7.86871, 4.72115, 3587.24, 2018.53),
        ("a2-highgpu-4g", 15.73742, 9.4423, 7174.47, 4037.07),
        ("a2-highgpu-8g", 31.474839, 18.8846, 14348.95, 8074.14),
        ("a2-megagpu-16g", 59.531599, 35.71864, 27125.92, 15274.96),
        ("a2-ultragpu-1g", 5.707732, 2.367253, None, None),
        ("a2-ultragpu-2g", 11.415465, 4.734507, None, None),
        ("a2-ultragpu-4g", 22.83093, 9.469013, None, None),
        ("a2-ultragpu-8g", 45.66186, 18.938026, None, None),
        ("a3-highgpu-1g", 11.06947, 4.540105, 5605.04, 3549.08),
        ("a3-highgpu-2g", 22.138939, 9.080209, 11210.08, 7098.15),
        ("a3-highgpu-4g", 44.277878, 18.160418, 22420.16, 14196.3),
        ("a3-highgpu-8g", 88.555756, 36.320837, 44840.33, 28392.6),
        ("a3-megagpu-8g", 92.937588, 23.275237, 46678.66, 29555.26),
        ("e2-standard-2", 0.075471, 0.04138, 34.71, 24.79),
        ("e2-standard-4", 0.150942, 0.08276, 69.42, 49.58),
        ("e2-standard-8", 0.301883, 0.16552, 138.84, 99.17),
        ("e2-standard-16", 0.603767, 0.33104, 277.67, 198.34),
        ("e2-standard-32", 1.207533, 0.66208, 555.34, 396.67),
        ("g2-standard-4", 0.704518, 0.310596, 324.01, 231.43),
        ("g2-standard-8", 0.850829, 0.375092, 391.3, 279.5),
        ("g2-standard-12", 0.997141, 0.439588, 458.58, 327.56),
        ("g2-standard-16", 1.143452, 0.504084, 525.87, 375.62),
        ("g2-standard-24", 1.994281, 0.879176, 917.17, 655.12),
        ("g2-standard-32", 1.728697, 0.762068, 795.03, 567.88),
        ("g2-standard-48", 3.988562, 1.758352, 1834.34, 1310.24),
        ("g2-standard-96", 7.977124, 3.516704, 3668.68, 2620.49),
        ("n1-standard-1", 0.053496, 0.013689, 23.37, 16.7),
        ("n1-standard-2", 0.106993, 0.027377, 46.75, 33.39),
        ("n1-standard-4", 0.213985, 0.054755, 93.5, 66.78),
        ("n1-standard-8", 0.42797, 0.10951, 186.99, 133.57),
        ("n1-standard-16", 0.85594, 0.21902, 373.98, 267.13),
        ("n1-standard-32", 1.71188, 0.43804, 747.96, 534.27),
        ("n1-standard-64", 3.42376, 0.87608, 1495.93, 1068.53),
        ("n1-standard-96", 5.13564, 1.31412, 2243.89, 1602.8),
        ("n2-standard-2", 0.109378, 0.025036, 47.79, 34.14),
        ("n2-standard-4", 0.218756, 0.050072, 95.58, 68.27),
        ("n2-standard-8", 0.437512, 0.100144, 191.16, 136.55),
        ("n2-standard-16", 0.875024, 0.200288, 382.32, 273.09),
        ("n2-standard-32", 1.750048, 0.400576, 764.64, 546.18),
        ("n2-standard-48", 2.625072, 0.600864, 1146.96, 819.27),
        ("n2-standard-64", 3.500096, 0.801152, 1529.29, 1092.36),
        ("n2-standard-80", 4.37512, 1.00144, 1911.61, 1365.45),
        ("n2-standard-96", 5.250144, 1.201728, 2293.93, 1638.54),
        ("n2-standard-128", 7.000192, 1.602304, 3058.57, 2184.72),
    ),
    "europe-west4": (
        ("a2-highgpu-1g", 3.747972, 1.692835, 1723.67, 957.63),
        ("a2-highgpu-2g", 7.495944, 3.38567, 3447.35, 1915.25),
        ("a2-highgpu-4g", 14.991888, 6.77134, 6894.69, 3830.51),
        ("a2-highgpu-8g", 29.983776, 13.54268, 13789.38, 7661.01),
        ("a2-megagpu-16g", 56.62656, 25.57624, 26042.24, 14468.4),
        ("a2-ultragpu-1g", 5.580918, 2.945207, None, None),
        ("a2-ultragpu-2g", 11.161837, 5.890413, None, None),
        ("a2-ultragpu-4g", 22.323674, 11.780827, None, None),
        ("a2-ultragpu-8g", 44.647348, 23.561654, None, None),
        ("a3-highgpu-1g", 14.06756, 5.514847, 7124, 4509.78),
        ("a3-highgpu-2g", 28.13512, 11.029695, 14247.99, 9019.55),
        ("a3-highgpu-4g", 56.27024, 22.05939, 28495.98, 18039.1),
        ("a3-highgpu-8g", 112.540479, 44.118779, 56991.97, 36078.2),
        ("a3-megagpu-8g", 118.236831, 46.243579, 59381.81, 37589.66),
        ("e2-standard-2", 0.073772, 0.035264, 33.93, 24.23),
        ("e2-standard-4", 0.147544, 0.070528, 67.86, 48.47),
        ("e2-standard-8", 0.295088, 0.141056, 135.71, 96.94),
        ("e2-standard-16", 0.590176, 0.282112, 271.42, 193.87),
        ("e2-standard-32", 1.180353, 0.564224, 542.84, 387.75),
        ("g2-standard-4", 0.742916, 0.38986, 341.67, 244.05),
        ("g2-standard-8", 0.897202, 0.47082, 412.62, 294.73),
        ("g2-standard-12", 1.051488, 0.55178, 483.58, 345.41),
        ("g2-standard-16", 1.205773, 0.63274, 554.54, 396.1),
        ("g2-standard-24", 2.102975, 1.10356, 967.16, 690.83),
        ("g2-standard-32", 1.822916, 0.95658, 838.36, 598.83),
        ("g2-standard-48", 4.20595, 2.20712, 1934.32, 1381.65),
        ("g2-standard-96", 8.411901, 4.41424, 3868.63, 2763.31),
        ("n1-standard-1", 0.052292, 0.030382, 24.05, 17.18),
        ("n1-standard-2", 0.104584, 0.060765, 48.1, 34.36),
        ("n1-standard-4", 0.209168, 0.12153, 96.19, 68.71),
        ("n1-standard-8", 0.418336, 0.24306, 192.38, 137.43),
        ("n1-standard-16", 0.836672, 0.48612, 384.77, 274.86),
        ("n1-standard-32", 1.673344, 0.97224, 769.54, 549.71),
        ("n1-standard-64", 3.346688, 1.94448, 1539.07, 1099.43),
        ("n1-standard-96", 5.020032, 2.91672, 2308.61, 1649.14),
        ("n2-standard-2", 0.106916, 0.038868, 49.17, 35.12),
        ("n2-standard-4", 0.213832, 0.077736, 98.34, 70.25),
        ("n2-standard-8", 0.427664, 0.155472, 196.67, 140.49),
        ("n2-standard-16", 0.855328, 0.310944, 393.35, 280.99),
        ("n2-standard-32", 1.710656, 0.621888, 786.69, 561.97),
        ("n2-standard-48", 2.565984, 0.932832, 1180.04, 842.96),
        ("n2-standard-64", 3.421312, 1.243776, 1573.39, 1123.94),
        ("n2-standard-80", 4.27664, 1.55472, 1966.74, 1404.93),
        ("n2-standard-96", 5.131968, 1.865664, 2360.08, 1685.91),
        ("n2-standard-128", 6.842624, 2.487552, 3146.78, 2247.89),
    ),
}

MACHINE_PRICES: Mapping[tuple[str, str], MachinePrice] = MappingProxyType({
    (region, name): MachinePrice(name, region, on_demand, spot, cud_1y, cud_3y, _MACHINE_SOURCE)
    for region, rows in _MACHINE_ROWS.items()
    for name, on_demand, spot, cud_1y, cud_3y in rows
})
"""Machine prices by (region, machine type)."""

_DISK_SOURCE = Source(
    SKU_EXPORT_URL,
    SKU_EXPORT_AS_OF,
    f"compute.storage.{{balanced,ssd,hdd}}.cost.<region>.month, USD per GiB-month of provisioned "
    f"Persistent Disk; the SKUs behind {DISK_PRICING_URL}. Hyperdisk Balanced is not in the "
    "export (only Hyperdisk Extreme is), so it has no price here.",
)
_DISK_ROWS = {  # region: (pd-balanced, pd-ssd, pd-standard) USD per GiB-month
    "us-central1": (0.10, 0.17, 0.04),
    "us-east4": (0.11, 0.187, 0.044),
    "europe-west4": (0.11, 0.187, 0.044),
}
DISK_PRICES: Mapping[tuple[str, str], GibMonthPrice] = MappingProxyType({
    (region, kind): GibMonthPrice(kind, region, price, _DISK_SOURCE)
    for region, row in _DISK_ROWS.items()
    for kind, price in zip(("pd-balanced", "pd-ssd", "pd-standard"), row)
})
"""Persistent Disk capacity by (region, disk type), as ``nodeConfig.diskType`` spells it."""

_LOCAL_SSD_SOURCE = Source(
    SKU_EXPORT_URL,
    SKU_EXPORT_AS_OF,
    "compute.storage.local.cost.<region>: month, month_spot, month_1y, month_3y, USD per "
    "GiB-month of Local SSD (375 GiB a disk) attached to N1/N2/G2/A2/A3-class VMs.",
)
_LOCAL_SSD_ROWS = {  # region: (on-demand, spot, 1y, 3y) USD per GiB-month
    "us-central1": (0.08, 0.0428, 0.0504, 0.036),
    "us-east4": (0.088, 0.0528, 0.05544, 0.0396),
    "europe-west4": (0.088, 0.0494, 0.05544, 0.0396),
}
LOCAL_SSD_PRICES: Mapping[tuple[str, str], GibMonthPrice] = MappingProxyType({
    (region, mode): GibMonthPrice(f"local-ssd {mode}", region, price, _LOCAL_SSD_SOURCE)
    for region, row in _LOCAL_SSD_ROWS.items()
    for mode, price in zip(("on_demand", "spot", "1y", "3y"), row)
})
"""Local SSD by (region, how the VM it is attached to is billed: on_demand, spot, 1y, 3y)."""

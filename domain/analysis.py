"""Photo analysis (DOMAIN.md section 6, API.md "Photo analysis"): thresholds and their sources.

Two analyses use them: the aligned comparison of two photos of one area
(`services.images.alignment`), and the hair count of a trichoscopy image
(`services.images.hair_analysis`). The thresholds marked [calibrated] were set on
the generated ground truth of `tests.analysis_samples` (the figures are
in the tests and `bench/analysis.py`), with room on both sides.
"""

# -- Hair counts on a trichoscopy image ---------------------------------------

# [TrichoScan] "Distinguishes between strong, thicker terminal hairs (> 40 um) and
# fine, thinner vellus hairs (<= 40 um)" (trichoscan.com, Understanding results;
# Hoffmann R., "TrichoScan: what is new?", Dermatology 2005;211:54-62).
VELLUS_MAX_DIAMETER_UM = 40.0

# [product decision] A hair counts when at least this much of its shaft shows in
# the field: four diameters of a 50 um hair. A shorter dark mark is a black dot
# (a hair broken at the skin), an empty follicle opening, or a sliver of a hair
# cut by the frame's edge, none of which trichoscopy counts as a hair.
MIN_COUNTED_HAIR_LENGTH_UM = 200.0

# The widest shaft looked for. Scalp terminal hair averages 77 +- 12 um by caliper
# and 109 +- 20 um on a phototrichogram, which measures the shaft's long axis
# ("Hair diameter measurement methods: micrometer caliper versus
# phototrichogram", Archives of Aesthetic Plastic Surgery, e-aaps.org): two
# spreads above the phototrichogram's mean, rounded up.
MAX_SHAFT_DIAMETER_UM = 150.0

# -- Aligned comparison of two photos of an area --------------------------------

# [calibrated] Feature matches a homography must explain (RANSAC inliers).
# It needs 4; between unrelated scalp photos RANSAC finds at most 5 by chance,
# between two photos of one area 26 or more (150 generated pairs of each).
ALIGNMENT_MIN_INLIERS = 20

# [calibrated] The share of the mutual feature matches that are inliers: about
# a fifth between unrelated photos (the few chance matches), 0.6 or more
# between photos of one area.
ALIGNMENT_MIN_INLIER_RATIO = 0.3

# [calibrated] The correlation of the two photos' fine detail over their
# overlap once aligned (normalised cross-correlation, -1 to 1): unrelated
# texture correlates near 0, two photos of one area 0.7 or more on the
# generated pairs; weeks apart, with hair grown and combed otherwise, real
# pairs correlate less, hence the room below.
ALIGNMENT_MIN_CORRELATION = 0.3

# [product decision] The later photo must cover at least half the earlier
# one: over less, a comparison shows too little of the area to judge it.
ALIGNMENT_MIN_OVERLAP = 0.5

# [product decision] The later photo's frame, mapped onto the earlier one,
# may grow or shrink its area by at most this factor. The photo guide asks
# for the same distance each time: 8 % nearer or further is 17 % of area;
# a transform beyond 1.5x is a failed fit or another framing altogether.
ALIGNMENT_MAX_AREA_CHANGE = 1.5

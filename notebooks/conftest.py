"""nbval settings for the notebooks: the kernels nbval starts inherit this environment.

nbval ignores in-place display updates, so `%%gravix` streaming is turned off (the magics also detect
nbval by themselves); progress bars are off so outputs compare; no API key, so GravixLayer Local is used.
"""

import os

os.environ["GRAVIXLAYER_NOTEBOOK_STREAM"] = "off"
os.environ["TQDM_DISABLE"] = "1"
if os.environ.get("GRAVIXLAYER_NOTEBOOKS_USE_CLOUD") != "1":
    os.environ.pop("GRAVIXLAYER_API_KEY", None)

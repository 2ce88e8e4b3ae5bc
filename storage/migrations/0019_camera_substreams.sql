-- A camera's sub-stream (docs/watching.md "Sub-streams"): the lighter stream a camera also serves, which mosaic
-- tiles watch instead of the 1080p main one. Stored without credentials, like rtsp_url: it opens with the main
-- stream's login (rtsp_username, rtsp_password_sealed), so no second password is stored or re-sealed. Live only:
-- never recorded. Null: the camera has none, and its tiles watch the main stream.
ALTER TABLE cameras ADD COLUMN substream_url text CHECK (length(substream_url) BETWEEN 1 AND 2048);

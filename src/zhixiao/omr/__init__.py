"""Answer sheets and scan reading (答题卡制作 · 读卡): the OMR domain. Its engine/ is pure Python, no Django."""

from fabnet.cli import app

app(prog_name="fabnet")

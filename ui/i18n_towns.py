"""UI text of town-scoped users (issue 16): who sees which towns, and what a town user may not change."""

from text import Text

TOWN_TEXT: dict[str, Text] = {
    "signed_in_towns": Text("乡镇范围：{towns}", "Towns: {towns}"),
    "town_user_targets": Text(
        "目标值是全县统一的：限定乡镇（{towns}）的用户可以查看，但不能修改。如需调整请联系县级分析员。",
        "Targets are the county's: a user limited to towns ({towns}) may read them but not change them. Ask a "
        "county analyst.",
    ),
    "town_user_catalog": Text(
        "事项目录是全县统一的：限定乡镇（{towns}）的用户不能上传目录。",
        "The service catalogue is the county's: a user limited to towns ({towns}) cannot upload it.",
    ),
    "town_user_remove_refused": Text(
        "上传 #{upload_id} 含有您乡镇范围以外的数据，不能删除。",
        "Upload #{upload_id} holds data outside your towns; you cannot remove it.",
    ),
    "up_town_fixed": Text("上传到：{town}（您的乡镇）", "Uploading into {town} (your town)"),
    "uploads_none_removable": Text(
        "没有您可以删除的上传（只能删除全部数据都属于您乡镇的上传）。",
        "No upload you may remove (only uploads all of whose data is your towns').",
    ),
    "users_towns": Text("乡镇范围", "Towns"),
    "users_towns_help": Text(
        "限定该用户只能查看和上传这些乡镇的数据；留空为全县。管理员不能限定乡镇。",
        "Limit the user to these towns' data (reading and uploading); leave empty for the whole county. An admin "
        "cannot be limited.",
    ),
    "users_towns_all": Text("全县", "whole county"),
    "users_towns_submit": Text("修改乡镇范围", "Change towns"),
    "users_towns_done": Text("{name} 的乡镇范围：{towns}。", "{name}'s towns: {towns}."),
}

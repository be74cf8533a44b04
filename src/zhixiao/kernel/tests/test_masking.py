from __future__ import annotations

from zhixiao.kernel.masking import mask_address, mask_id_number, mask_mobile, mask_student_no


def test_id_numbers_keep_four_characters_at_each_end():
    assert mask_id_number("61010119900101123X") == "6101**********123X"
    assert mask_id_number("") == ""


def test_mobiles_keep_the_network_prefix_and_the_last_four_digits():
    assert mask_mobile("13812345678") == "138****5678"


def test_a_student_number_that_embeds_the_id_number_is_masked_like_it():
    assert mask_student_no("G61010119900101123X", "61010119900101123X") == "G6101**********123X"
    assert mask_student_no("L2024000123", "61010119900101123X") == "L2024000123"
    assert mask_student_no("G61010119900101123X", None) == "G61010119900101123X"


def test_addresses_keep_only_the_region():
    assert mask_address("安徽省滁州市琅琊区丰乐路1号") == "安徽省滁州市****"
